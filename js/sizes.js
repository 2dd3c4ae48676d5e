// Byte sizes of the package's files that FaceProof.create() downloads (the .wasm modules and the
// models, by path in the package), for onProgress's total. The package build
// (scripts/build-pkg.sh) writes the real list into pkg/; left empty, sizes come from each
// response's Content-Length.
export const FILE_SIZES = Object.freeze({});
