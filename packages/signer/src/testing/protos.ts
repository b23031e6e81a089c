import { createRequire } from 'node:module';
import type * as GrpcJs from '@grpc/grpc-js';
import type * as ProtoLoader from '@grpc/proto-loader';

export type Grpc = typeof GrpcJs;

const requireHere = createRequire(import.meta.url);
// The channel credentials handed to the client must come from the very @grpc/grpc-js copy that
// google-gax loads (grpc-js checks them with instanceof), so resolve it through @google-cloud/kms.
const kmsMain = requireHere.resolve('@google-cloud/kms');
const requireFromGax = createRequire(createRequire(kmsMain).resolve('google-gax'));

/** The @grpc/grpc-js module google-gax (under @google-cloud/kms) uses. */
export const grpc = requireFromGax('@grpc/grpc-js') as Grpc;

const protoLoader = requireFromGax('@grpc/proto-loader') as typeof ProtoLoader;

/** google.cloud.kms.v1.KeyManagementService from the protos.json bundled in @google-cloud/kms. */
export function loadKeyManagementService(): GrpcJs.ServiceDefinition {
  // protos.json already contains the google.api / google.protobuf types the .proto files import.
  const json = requireHere('@google-cloud/kms/build/protos/protos.json') as Record<string, unknown>;
  const definition = protoLoader.fromJSON(json, {
    longs: String, // Int64Value.value arrives as a decimal string, as over the real client
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const service = definition['google.cloud.kms.v1.KeyManagementService'];
  if (!service || !('AsymmetricSign' in service)) {
    throw new Error('KeyManagementService not found in @google-cloud/kms build/protos/protos.json');
  }
  return service as GrpcJs.ServiceDefinition;
}
