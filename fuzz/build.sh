#!/usr/bin/env bash
# Publishes the harness in Release to OUT (default /dev/shm/ztgw-fuzz/out, else /tmp) and instruments the
# assemblies under test with SharpFuzz. The harness itself and the framework are not instrumented.
set -euo pipefail
cd "$(dirname "$0")/.."
base=/tmp
[ -d /dev/shm ] && base=/dev/shm
out=${OUT:-$base/ztgw-fuzz/out}

dotnet tool restore >/dev/null
rm -rf "$out"
dotnet publish fuzz/ZtGateway.Fuzz/ZtGateway.Fuzz.csproj -c Release -o "$out" --nologo -v quiet

# The product and the parsers it hands untrusted bytes to: YAML for the policy, JSON Web Tokens for credentials.
for dll in ZtGateway.Policy.dll ztgw.dll YamlDotNet.dll \
  Microsoft.IdentityModel.JsonWebTokens.dll Microsoft.IdentityModel.Tokens.dll Microsoft.IdentityModel.Logging.dll; do
  dotnet sharpfuzz "$out/$dll"
done
echo "instrumented harness: $out/ZtGateway.Fuzz.dll"
