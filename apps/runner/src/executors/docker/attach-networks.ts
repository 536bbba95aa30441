import type Docker from 'dockerode';
import type { ContainerCreateOptions } from 'dockerode';

/**
 * Creates a container on several networks the way both engines accept: on the first at create,
 * the others connected before it starts (Docker 20.10 refuses more than one EndpointsConfig at
 * create, "Container cannot be connected to network endpoints"; podman accepts either).
 */
export async function createOnNetworks(
  docker: Docker,
  options: ContainerCreateOptions,
  networks: [string, ...string[]],
): Promise<Docker.Container> {
  const [first, ...rest] = networks;
  const container = await docker.createContainer({
    ...options,
    HostConfig: { ...options.HostConfig, NetworkMode: first },
    NetworkingConfig: { EndpointsConfig: { [first]: {} } },
  });
  try {
    for (const name of rest) await docker.getNetwork(name).connect({ Container: container.id });
  } catch (err) {
    await container.remove({ force: true }).catch(() => undefined);
    throw err;
  }
  return container;
}
