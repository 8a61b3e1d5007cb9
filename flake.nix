# Placeholder: the real flake (NativeAOT cvm-control package, overlay, checks) arrives with the
# packaging issue. This file evaluates, but it builds nothing yet.
{
  description = "cvm-control (placeholder flake; see nix/README.md)";
  outputs = { self }: { };
}
