# The few nixpkgs lib functions that flake.nix and nix/package.nix call, with the same meaning and
# just enough implementation to evaluate them. The fileset functions model a file set as a list of
# paths and check that every listed path exists (maybeMissing drops absent ones).
let
  isFileset = x: builtins.isAttrs x && x ? _fileset;
  toPaths = x: if isFileset x then x._fileset else [ x ];
  mustExist = p: if builtins.pathExists p then p else throw "stub lib.fileset: ${toString p} does not exist";
in
{
  genAttrs = names: f: builtins.listToAttrs (map (name: { inherit name; value = f name; }) names);
  optionals = cond: list: if cond then list else [ ];
  optional = cond: x: if cond then [ x ] else [ ];
  optionalString = cond: s: if cond then s else "";
  optionalAttrs = cond: set: if cond then set else { };
  hasPrefix = prefix: s: builtins.substring 0 (builtins.stringLength prefix) s == prefix;
  getLib = drv: drv.lib or drv.out or drv;
  getDev = drv: drv.dev or drv.out or drv;

  fileset = {
    unions = sets: { _fileset = builtins.concatLists (map (s: map mustExist (toPaths s)) sets); };
    difference = a: b: { _fileset = builtins.filter (p: !(builtins.elem p (toPaths b))) (toPaths a); };
    maybeMissing = p: { _fileset = if builtins.pathExists p then [ p ] else [ ]; };
    # The real one copies exactly the file set to the store; the stub keeps the root and records
    # the set, so that the stub buildDotnetModule can check project files against it.
    toSource = { root, fileset }: {
      _stubSource = true;
      inherit root;
      files = toPaths fileset;
      outPath = toString root;
    };
  };
}
