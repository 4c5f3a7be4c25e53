/// Old spellings of options that now have one name across commands. Each is accepted for one
/// release (until Cleave 0.2): the command line is rewritten to the new spelling before parsing
/// and one note per old spelling goes to standard error.
///
/// | command            | old                      | new                              |
/// |--------------------|--------------------------|----------------------------------|
/// | locate             | `--method ALG`           | `--cluster-method ALG`           |
/// | objects            | `--cluster K`            | `--clusters K`                   |
/// | features           | `--texture-levels N`     | `--glcm-levels N`                |
/// | train, experiment  | `--flatten SIGMA`        | `--flatten-sigma SIGMA`          |
/// | train, experiment  | `--flatten none`         | `--no-flatten`                   |
/// | train, experiment  | `--patch N`              | `--patch-size N`                 |
/// | train              | `--normalise MODE`       | `--normalize MODE`               |
/// | train, experiment  | `--norm KIND`            | `--layer-norm KIND`              |
enum DeprecatedSpellings {
    struct Rename {
        let commands: Set<String>
        let old: String
        let new: String
    }

    static let renames: [Rename] = [
        Rename(commands: ["locate"], old: "--method", new: "--cluster-method"),
        Rename(commands: ["objects"], old: "--cluster", new: "--clusters"),
        Rename(commands: ["features"], old: "--texture-levels", new: "--glcm-levels"),
        Rename(commands: ["train", "experiment"], old: "--patch", new: "--patch-size"),
        Rename(commands: ["train"], old: "--normalise", new: "--normalize"),
        Rename(commands: ["train", "experiment"], old: "--norm", new: "--layer-norm"),
    ]

    /// The release that stops accepting the old spellings.
    static let lastRelease = "0.2"

    /// `arguments` (without the program name) in the current spellings, and one note per old
    /// spelling found. Only the options of the command named first are rewritten; everything
    /// after a `--` is left alone (e.g. the command that `cleave submit` wraps).
    static func rewrite(_ arguments: [String]) -> (arguments: [String], notes: [String]) {
        guard let command = arguments.first(where: { !$0.hasPrefix("-") }) else { return (arguments, []) }
        var out: [String] = [], notes: [String] = []
        var i = 0
        func note(_ old: String, _ new: String) {
            let line = "note: cleave \(command) \(old) is now \(new); the old spelling is accepted until Cleave \(lastRelease)"
            if !notes.contains(line) { notes.append(line) }
        }
        while i < arguments.count {
            let argument = arguments[i]
            if argument == "--" { out += arguments[i...]; break }
            let (name, attached) = split(argument)
            if let rename = renames.first(where: { $0.commands.contains(command) && $0.old == name }) {
                out.append(attached.map { rename.new + "=" + $0 } ?? rename.new)
                note(rename.old, rename.new)
                i += 1
                continue
            }
            // train/experiment: --flatten was a σ (or none); it is now a switch, the σ is --flatten-sigma.
            if ["train", "experiment"].contains(command), name == "--flatten" {
                let value = attached ?? (i + 1 < arguments.count && isFlattenValue(arguments[i + 1]) ? arguments[i + 1] : nil)
                if let value {
                    if value.lowercased() == "none" {
                        out.append("--no-flatten"); note("--flatten none", "--no-flatten")
                    } else {
                        out += ["--flatten-sigma", value]; note("--flatten SIGMA", "--flatten-sigma SIGMA")
                    }
                    i += attached == nil ? 2 : 1
                    continue
                }
            }
            out.append(argument)
            i += 1
        }
        return (out, notes)
    }

    /// `--name=value` → (`--name`, `value`); anything else → (itself, nil).
    static func split(_ argument: String) -> (String, String?) {
        guard argument.hasPrefix("--"), let eq = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<eq]), String(argument[argument.index(after: eq)...]))
    }

    /// A value the old `--flatten SIGMA|none` took (a number or `none`), not the next option.
    static func isFlattenValue(_ text: String) -> Bool {
        text.lowercased() == "none" || Double(text) != nil
    }
}
