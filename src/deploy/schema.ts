import { z } from 'zod';
import { duration } from '../core/duration';

export const deploySchema = z
  .strictObject({
    keysDir: z
      .string()
      .default('/etc/fieldgate/deploy-keys')
      .describe('Directory of pinned Ed25519 public keys (*.pem, SPKI) that deploy bundles must be signed with.'),
    allowUnsigned: z.boolean().default(false).describe('Accept deploy bundles without a signature (a bundle with a bad signature is refused all the same). For a lab only.'),
    confirmWindow: duration('How long a deploy may wait for its confirmation (req/deploy.confirm, or auto) before it is rolled back; a bundle may name its own.').default(120_000),
    keep: z.number().int().min(1).max(100).default(5).describe('Deployed versions kept in <stateDir>/deploy/versions.'),
  })
  .describe('Remote deployment of rule sets on <prefix>/<gw>/req/deploy (docs/operations.md, "Remote deployment").');

export type DeployConfig = z.infer<typeof deploySchema>;
