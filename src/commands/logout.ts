import { Args } from '@oclif/core';
import { BaseCommand } from '../lib/cli/index.js';
import { eraseCredential, parseRegistryHost } from '../lib/oci/index.js';

export interface LogoutResultJson {
  registry: string;
  removed: boolean;
}

export default class Logout extends BaseCommand {
  static override summary = 'Remove stored credentials for a registry.';
  static override description =
    'Erases the host\'s entry from its credential helper or from the "auths" map of $DOCKER_CONFIG/config.json (~/.docker/config.json). Not being logged in is not an error.';
  static override examples = ['<%= config.bin %> logout ghcr.io', '<%= config.bin %> logout localhost:5000 --json'];
  static override args = {
    host: Args.string({ description: 'Registry host[:port].', required: true }),
  };

  async run(): Promise<LogoutResultJson> {
    const { args } = await this.parse(Logout);
    const ref = parseRegistryHost(args.host);
    const removed = await eraseCredential(ref.registry, process.env);
    this.log(removed ? `Removed credentials for ${ref.registry}` : `Not logged in to ${ref.registry}`);
    return { registry: ref.registry, removed };
  }
}
