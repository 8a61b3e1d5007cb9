{
  description = "cvm-control: the bootstrap daemon of a confidential VM, as a NativeAOT executable";

  # Pinned to one commit in flake.lock. The URL must stay exactly as locked (owner case included),
  # or Nix re-locks instead of using the pin.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f (pkgsFor system));
      pkgsFor =
        system:
        import nixpkgs {
          inherit system;
          overlays = [ self.overlays.default ];
        };
    in
    {
      # Adds cvm-control (and the experimental, not yet building cvm-control-static) to nixpkgs.
      overlays.default = final: prev: {
        cvm-control = final.callPackage ./nix/package.nix { };
        cvm-control-static = final.cvm-control.override { static = true; };
      };

      packages = forAllSystems (pkgs: {
        cvm-control = pkgs.cvm-control;
        default = pkgs.cvm-control;
      });

      checks = forAllSystems (pkgs: {
        # The NativeAOT build itself, with its install check (--version, --help).
        cvm-control = pkgs.cvm-control;
        # tests/CvmControl.Tests with dotnet test.
        unit-tests = pkgs.cvm-control.tests.unit;
      });
    };
}
