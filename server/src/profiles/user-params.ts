import { Type } from '@sinclair/typebox';
import { Id, Username } from '@parley/wire';

// A person is looked up by id or by username alike, for a profile (profile.routes) and for keys
// (directory.routes); both take the same path parameters.
export const ByIdParams = Type.Object({ userId: Id }, { additionalProperties: false });
export const ByUsernameParams = Type.Object(
  { username: Username },
  { additionalProperties: false },
);
