# A stand-in for nixpkgs, for offline checks only (nix/check.sh): `nix flake check --no-build
# --override-input nixpkgs path:nix/stub-nixpkgs` evaluates the real flake.nix and nix/package.nix
# against it. It builds nothing and proves nothing about nixpkgs itself; see default.nix.
{
  description = "stub nixpkgs for offline evaluation checks of the cvm-control flake";
  outputs = { self }: { lib = import ./lib.nix; };
}
