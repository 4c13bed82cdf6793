/**
 * The AMQP stand-in of `chorus test`: a channel model whose RPC channel answers each published
 * request with the current call's declared reply (correlated as the broker's direct reply-to
 * would), and whose confirm channel confirms publishes. A declared transport failure is an
 * unroutable message, returned as the broker returns one.
 */
import { EventEmitter } from 'node:events';
import type { ChannelModel, Message, Options } from 'amqplib';
import { currentCall } from './current-call.ts';
import { replyBytes } from './wire.ts';

type Consumer = (message: Message | null) => void;
type Confirm = (error: unknown) => void;

/** A channel: publish answers from the current call; consume registers the reply consumer. */
class StandInChannel extends EventEmitter {
  #consumer: Consumer | undefined;

  consume(_queue: string, consumer: Consumer): Promise<{ consumerTag: string }> {
    this.#consumer = consumer;
    return Promise.resolve({ consumerTag: 'chorus-test' });
  }

  publish(
    _exchange: string,
    routingKey: string,
    _content: Buffer,
    options: Options.Publish,
    confirm?: Confirm,
  ): boolean {
    const answer = currentCall.getStore()?.answer;
    const correlationId = options.correlationId;
    if (answer === undefined || answer.failure === 'transport') {
      const returned = {
        content: Buffer.alloc(0),
        fields: { routingKey },
        properties: { correlationId, headers: {} },
      };
      queueMicrotask(() => this.emit('return', returned));
      return true;
    }
    if (answer.failure === 'timeout') return true;
    setTimeout(() => {
      if (confirm !== undefined) return confirm(null);
      const content = Buffer.from(replyBytes(answer.reply));
      const contentType = typeof answer.reply === 'string' ? 'text/plain' : 'application/json';
      this.#consumer?.({
        content,
        fields: { routingKey, exchange: '', deliveryTag: 1, redelivered: false },
        properties: { correlationId, contentType, headers: answer.headers ?? {} },
      } as unknown as Message);
    }, answer.latency ?? 0).unref();
    return true;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A channel model that never touches the network. */
class StandInChannelModel extends EventEmitter {
  createChannel(): Promise<StandInChannel> {
    return Promise.resolve(new StandInChannel());
  }
  createConfirmChannel(): Promise<StandInChannel> {
    return Promise.resolve(new StandInChannel());
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The stand-in of amqplib's connect. */
export function connectAmqpStandIn(): Promise<ChannelModel> {
  return Promise.resolve(new StandInChannelModel() as unknown as ChannelModel);
}
