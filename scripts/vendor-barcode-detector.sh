#!/usr/bin/env bash
# Vendor the `barcode-detector` polyfill (ZXing-C++ in WebAssembly) into static/vendor/barcode-detector/
# for the scan pages' camera on browsers without a native BarcodeDetector (static/scanner.js loads it
# only when the picker taps "Camera"; nothing comes from a CDN at run time).
#
# Installs the pinned version from npm into a temporary folder and copies the built files:
#   ponyfill.js        the IIFE build: window.BarcodeDetectionAPI.{BarcodeDetector, prepareZXingModule}
#   zxing_reader.wasm  the reader it runs (the exact zxing-wasm version the polyfill was built against)
#   LICENSE-*          both licences (MIT)
#   VERSION            what was vendored, with the files' SHA-256
# scanner.js points the polyfill at /static/vendor/barcode-detector/zxing_reader.wasm (locateFile).
#
# Usage: scripts/vendor-barcode-detector.sh [version]   (default: the pinned one below)
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="${1:-3.2.2}"
DEST=static/vendor/barcode-detector
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

(cd "$WORK" && npm init -y >/dev/null && npm install --no-audit --no-fund --ignore-scripts --save-exact \
  "barcode-detector@$VERSION" >/dev/null)

MODULES="$WORK/node_modules"
ZXING_VERSION="$(node -p "require('$MODULES/zxing-wasm/package.json').version")"
if ! grep -q "zxing-wasm@$ZXING_VERSION" "$MODULES/barcode-detector/dist/iife/ponyfill.js"; then
  echo "barcode-detector $VERSION was not built against zxing-wasm $ZXING_VERSION: refusing to mix them" >&2
  exit 1
fi

rm -rf "$DEST"
mkdir -p "$DEST"
cp "$MODULES/barcode-detector/dist/iife/ponyfill.js" "$DEST/ponyfill.js"
cp "$MODULES/zxing-wasm/dist/reader/zxing_reader.wasm" "$DEST/zxing_reader.wasm"
cp "$MODULES/barcode-detector/LICENSE" "$DEST/LICENSE-barcode-detector"
cp "$MODULES/zxing-wasm/LICENSE" "$DEST/LICENSE-zxing-wasm"
{
  echo "barcode-detector $VERSION (npm), zxing-wasm $ZXING_VERSION (npm), vendored by scripts/vendor-barcode-detector.sh"
  (cd "$DEST" && sha256sum ponyfill.js zxing_reader.wasm)
} > "$DEST/VERSION"
echo "vendored into $DEST:"
ls -l "$DEST"
