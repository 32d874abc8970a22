// Builder::Build: the executor (lands with the parser of src/build/dockerfile).

#include "build/builder.h"

namespace berth::build {

Result<oci::Digest> Builder::Build(const BuildOptions&, BuildOutput&) {
  return Error::NotImplemented("berth build: the executor is not landed yet");
}

}  // namespace berth::build
