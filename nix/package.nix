# cvm-control built with NativeAOT through nixpkgs' buildDotnetModule.
#
# Default: a NativeAOT executable for the host's glibc RID (linux-x64 or linux-arm64). Its only
# dynamic dependencies are glibc and OpenSSL (libssl/libcrypto, found through the binary's RUNPATH).
#
# static = true: the fully static variant (linux-musl-<arch>, StaticExecutable, StaticOpenSslLinking),
# the counterpart of the Go original's CGO_ENABLED=0 build. It is wired up but has never been built;
# docs/packaging.md lists what stands in its way. Reachable as the overlay's cvm-control-static only,
# not as a flake output.
{
  lib,
  stdenv,
  buildDotnetModule,
  dotnetCorePackages,
  openssl,
  zlib,
  patchelf,
  cmake,
  symlinkJoin,
  writeShellScript,
  pkgsStatic,
  static ? false,
}:

let
  # The one version of the project, from Directory.Build.props, so Nix and dotnet agree.
  version =
    let
      found = builtins.match ".*<Version>([^<]+)</Version>.*" (builtins.readFile ../Directory.Build.props);
    in
    if found == null then throw "cvm-control: no <Version> in Directory.Build.props" else builtins.head found;

  dotnet-sdk = dotnetCorePackages.sdk_10_0;

  arch = if stdenv.hostPlatform.isAarch64 then "arm64" else "x64";
  muslRid = "linux-musl-${arch}";

  # Only what the build reads: no bin/ obj/ leftovers from a developer's tree, no VM test bed.
  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.difference
      (lib.fileset.unions [
        ../CvmControl.sln
        ../Directory.Build.props
        ../Directory.Packages.props
        ../src
        ../tests/CvmControl.Tests
      ])
      (lib.fileset.unions (map lib.fileset.maybeMissing [
        ../src/CvmControl/bin
        ../src/CvmControl/obj
        ../src/CvmControl.Api/bin
        ../src/CvmControl.Api/obj
        ../tests/CvmControl.Tests/bin
        ../tests/CvmControl.Tests/obj
      ]));
  };

  # Shared by the package and its unit-test derivation.
  common = {
    inherit version src dotnet-sdk;
    nugetDeps = ./deps.json;

    # global.json pins the SDK of the developer machines (10.0.401, roll forward within the feature
    # band). Here the SDK is whatever the nixpkgs pin in flake.lock carries, so the pin is dropped.
    postPatch = ''
      rm -f global.json
    '';

    meta = {
      description = "Bootstrap daemon for confidential VMs: env files, LUKS2 volumes, passphrase rotation over HTTPS";
      mainProgram = "cvm-control";
      platforms = [ "x86_64-linux" "aarch64-linux" ];
    };
  };

  # The static variant links with pkgsStatic's musl gcc. This derivation is a native (glibc) one, so
  # the usual setup hooks hand buildInputs to the glibc cc wrapper only; a small linker script passes
  # the static OpenSSL to the musl one explicitly. build-local.sh also uses it as CC for the OpenSSL
  # shim that StaticOpenSslLinking compiles with cmake, which finds OpenSSL through OPENSSL_ROOT_DIR.
  # The ILCompiler sees linux -> linux-musl as a cross compile and would pass
  # --target=<arch>-linux-musl, which only clang accepts; an empty TargetTriple (a global property
  # wins over the targets' own assignment) keeps that flag away from gcc.
  muslCc = pkgsStatic.stdenv.cc;
  staticOpenssl = symlinkJoin {
    name = "openssl-static-${pkgsStatic.openssl.version}";
    paths = [ (lib.getDev pkgsStatic.openssl) (lib.getLib pkgsStatic.openssl) pkgsStatic.zlib ];
  };
  muslLinker = writeShellScript "cvm-control-musl-cc" ''
    exec ${muslCc}/bin/${muslCc.targetPrefix}cc -I${staticOpenssl}/include -L${staticOpenssl}/lib "$@"
  '';
  staticFlags = [
    "-p:CvmStatic=true"
    "-p:TargetTriple="
    "-p:CppCompilerAndLinker=${muslLinker}"
  ];
in
buildDotnetModule (
  common
  // {
    pname = if static then "cvm-control-static" else "cvm-control";

    projectFile = "src/CvmControl/CvmControl.csproj";

    # NativeAOT: the executable carries its own runtime, nothing to wrap it with.
    selfContainedBuild = true;
    dotnet-runtime = null;
    # null = the host's RID (nixpkgs maps x86_64-linux/aarch64-linux to the glibc RIDs only).
    runtimeId = if static then muslRid else null;

    # PublishAot must be on at restore time already; the opt-in property does it (see the csproj).
    dotnetFlags = [ "-p:CvmNativeAot=true" ] ++ lib.optionals static staticFlags;

    # buildDotnetModule runs on stdenvNoCC; the ILCompiler links with the C toolchain (gcc when no
    # clang is on PATH) and strips symbols with objcopy from binutils.
    nativeBuildInputs =
      [ stdenv.cc patchelf ]
      # StaticOpenSslLinking compiles the OpenSSL shim from source (cmake) at publish time.
      ++ lib.optionals static [ cmake ];
    # cmake is a tool of the ILCompiler here, not this package's build system.
    dontUseCmakeConfigure = true;
    env = lib.optionalAttrs static { OPENSSL_ROOT_DIR = "${staticOpenssl}"; };

    buildInputs =
      if static then
        # The musl runtime and NativeAOT packs come from the SDK, not from deps.json. An SDK without
        # them leaves the list empty, and restore then names the missing pack.
        dotnet-sdk.targetPackages.${muslRid} or [ ]
      else
        [ openssl zlib ];

    # No wrapper script: ./result/bin/cvm-control is the ELF itself, so a systemd unit's ExecStart
    # can point straight at it (the dynamic build still needs its /nix/store closure).
    executables = [ ];
    postInstall = ''
      rm -f "$out/lib/$pname/"*.dbg
      mkdir -p "$out/bin"
      ln -s "$out/lib/$pname/cvm-control" "$out/bin/cvm-control"
    '';

    # The portable runtime dlopen()s libssl.so.3 instead of linking it; dlopen searches the calling
    # object's RUNPATH, so add OpenSSL there. This runs after patchELF's rpath shrinking, which
    # would otherwise drop a directory that no DT_NEEDED entry uses.
    postFixup = lib.optionalString (!static) ''
      patchelf --add-rpath "${lib.getLib openssl}/lib" "$out/lib/$pname/cvm-control"
    '';

    doInstallCheck = true;
    installCheckPhase = ''
      runHook preInstallCheck
      "$out/bin/cvm-control" --version
      "$out/bin/cvm-control" --help > /dev/null
    ''
    + lib.optionalString static ''
      if ${stdenv.cc.bintools.bintools}/bin/readelf -d "$out/lib/$pname/cvm-control" | grep -q NEEDED; then
        echo "cvm-control-static has dynamic dependencies" >&2
        exit 1
      fi
    ''
    + ''
      runHook postInstallCheck
    '';

    passthru.tests.unit = buildDotnetModule (
      common
      // {
        pname = "cvm-control-tests";
        # The unit tests run on the JIT, framework-dependent, exactly as `dotnet test` runs them on a
        # developer machine; the NativeAOT switches do not change the code under test.
        projectFile = "src/CvmControl/CvmControl.csproj";
        testProjectFile = "tests/CvmControl.Tests/CvmControl.Tests.csproj";
        selfContainedBuild = false;
        doCheck = true;
        # Nothing to install but a marker: the result is the passing test run.
        dontDotnetInstall = true;
        dontDotnetFixup = true;
        installPhase = ''
          runHook preInstall
          mkdir -p "$out"
          echo "cvm-control ${version}: unit tests passed" > "$out/result"
          runHook postInstall
        '';
      }
    );
  }
)
