import { BaseCommand, oclifArgs, oclifFlags } from '../lib/cli/index.js';
import { type PushResultJson, pushSpec, runPushCommand } from '../lib/cli/handlers/push.js';

export default class Push extends BaseCommand {
  static override summary = 'Push a package (directory or stored artifact) to a registry or an OCI layout.';
  static override description = [
    'SOURCE is a package directory (validated and packed into the local store first) or a reference the local store, an oci: layout or a registry already holds. TARGET is HOST[:PORT]/REPOSITORY[:TAG] or oci:PATH[:TAG]; without a tag the source tag is used.',
    'Blobs the registry already has are skipped; blobs in another repository of the same registry are mounted instead of uploaded. Small blobs go up in one PUT, larger ones in PATCH chunks of --chunk-size. Credentials come from the Docker config (aionctl login, docker login, credential helpers). localhost and 127.0.0.1 use plain HTTP; other hosts HTTPS.',
    'Prints the pushed manifest digest.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> push ./my-agent localhost:5000/agents/my-agent:1.0.0',
    '<%= config.bin %> push my_agent:1.0.0 ghcr.io/acme/my-agent:1.0.0 --json',
    '<%= config.bin %> push ./my-agent oci:./export',
  ];
  static override args = oclifArgs(pushSpec.args);
  static override flags = oclifFlags(pushSpec.flags);

  async run(): Promise<PushResultJson> {
    const parsed = await this.parse(Push);
    return runPushCommand(this.io(), { flags: parsed.flags, args: parsed.args, argv: parsed.argv as string[] });
  }
}
