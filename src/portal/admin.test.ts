import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAdminGuard } from './admin.ts';

test('the admin guard accepts only "Bearer <credential>"', () => {
  const guard = createAdminGuard('s3cret-admin-credential-000');
  assert.equal(guard('Bearer s3cret-admin-credential-000'), true);
  assert.equal(guard('bearer   s3cret-admin-credential-000'), true);
  assert.equal(guard('Bearer s3cret-admin-credential-001'), false);
  assert.equal(guard('Bearer s3cret-admin-credential-0000'), false);
  assert.equal(guard('s3cret-admin-credential-000'), false);
  assert.equal(guard('Basic s3cret-admin-credential-000'), false);
  assert.equal(guard(undefined), false);
  assert.equal(guard(['Bearer s3cret-admin-credential-000']), false);
});
