# Stub nixpkgs: `import nixpkgs { system; overlays; }` returns a package set whose packages are
# placeholder derivations (builder /bin/sh that fails if ever built). buildDotnetModule checks the
# arguments this project relies on: the project files exist in the source, nugetDeps is a lock file
# in nixpkgs' format (pname/version/hash, SRI sha256 or sha512), the NativeAOT switch is on for
# the package and the phase scripts evaluate. Everything else about nixpkgs is assumed, not checked.
{
  system ? builtins.currentSystem,
  overlays ? [ ],
  ...
}:
let
  lib = import ./lib.nix;

  fake =
    name: extra:
    derivation {
      inherit name system;
      builder = "/bin/sh";
      args = [ "-c" "echo 'stub nixpkgs: ${name} cannot be built' >&2; exit 1" ];
    }
    // extra;

  check = cond: msg: if cond then true else throw "stub buildDotnetModule: ${msg}";

  validDeps =
    file:
    let
      deps = builtins.fromJSON (builtins.readFile file);
      validOne =
        d:
        check (builtins.isAttrs d && builtins.attrNames d == [ "hash" "pname" "version" ])
          "deps entry ${builtins.toJSON d} must have exactly pname, version and hash"
        && check (builtins.match "sha(256|512)-[A-Za-z0-9+/]+=*" d.hash != null) "bad hash for ${d.pname}";
    in
    check (builtins.isList deps && deps != [ ]) "${toString file} must be a non-empty JSON list"
    && builtins.all validOne deps;

  buildDotnetModule =
    args:
    let
      src = args.src;
      projects = lib.optional (args ? projectFile) args.projectFile
        ++ lib.optional (args ? testProjectFile) args.testProjectFile;
      phases = map (n: args.${n} or "") [ "postPatch" "postInstall" "postFixup" "installCheckPhase" "installPhase" ];
      checked =
        check (args ? pname && args ? version && args.version != "") "pname and version are required"
        && check (src ? _stubSource) "src must come from lib.fileset.toSource"
        && builtins.all (p: check (builtins.pathExists (src.root + "/${p}") && builtins.any (f: isUnder f (src.root + "/${p}")) src.files) "${p} is not in src") projects
        && validDeps args.nugetDeps
        && check (args ? dotnet-sdk) "dotnet-sdk must be set"
        && check (builtins.all builtins.isString (args.dotnetFlags or [ ])) "dotnetFlags must be strings"
        && builtins.deepSeq (phases ++ (args.dotnetFlags or [ ])) true;
      isUnder = dir: path: dir == path || lib.hasPrefix (toString dir + "/") (toString path);
    in
    assert checked;
    fake "${args.pname}-${args.version}" (
      (args.passthru or { })
      // {
        inherit (args) pname version;
        meta = args.meta or { };
        stubArgs = args;
      }
    );

  pkgsFun =
    final:
    let
      callPackage =
        fn: overrides:
        let
          f = if builtins.isFunction fn then fn else import fn;
          auto = builtins.intersectAttrs (builtins.functionArgs f) final;
        in
        f (auto // overrides) // { override = more: callPackage fn (overrides // more); };
      cc = fake "stub-cc" { targetPrefix = ""; bintools = fake "stub-bintools" { bintools = fake "stub-binutils" { }; }; };
      muslCc = fake "stub-musl-cc" { targetPrefix = "x86_64-unknown-linux-musl-"; bintools = fake "stub-musl-bintools" { bintools = fake "stub-musl-binutils" { }; }; };
      openssl = fake "stub-openssl" { version = "3"; dev = fake "stub-openssl-dev" { }; };
    in
    {
      inherit lib callPackage buildDotnetModule;
      stdenv = {
        inherit cc;
        hostPlatform = {
          inherit system;
          isAarch64 = system == "aarch64-linux";
        };
      };
      dotnetCorePackages.sdk_10_0 = fake "stub-dotnet-sdk-10" { targetPackages = { }; };
      inherit openssl;
      zlib = fake "stub-zlib" { };
      patchelf = fake "stub-patchelf" { };
      cmake = fake "stub-cmake" { };
      symlinkJoin = { name, paths }: fake name { };
      writeShellScript = name: text: builtins.seq text (fake name { });
      pkgsStatic = {
        stdenv.cc = muslCc;
        inherit openssl;
        zlib = fake "stub-static-zlib" { };
      };
    };

  fix = f: let x = f x; in x;
  applyOverlays = base: builtins.foldl' (acc: overlay: final: let prev = acc final; in prev // overlay final prev) base overlays;
in
fix (applyOverlays pkgsFun)
