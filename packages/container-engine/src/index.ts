// What the runner (workers, egress proxies) and the API (preview containers) share about the
// container engine behind the Docker API: which engine it is, its errors, and sealed networks.
export { dockerHostDescription, dockerMessage, isUnreachable, statusCodeOf } from './engine';
export { engineInfo, type EngineInfo, type EngineKind } from './engine-kind';
export { createSealedNetwork, removeNetwork, sealedBridgeName, type SealedNetwork } from './sealed-network';
