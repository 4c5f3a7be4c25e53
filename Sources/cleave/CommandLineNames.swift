import ArgumentParser
import CleaveCore
import CleavePipelines

/// The command line's words for the pipelines' fields: the one table that turns a field named by
/// a module error (``InvalidField``, or a field written in backticks inside a reason, e.g.
/// `` `slices` ``) into the flag a user types. The modules never name flags; the server says the
/// JSON field instead (`APIError`).
enum CommandLineNames {
    /// Field → flag where the flag is not the field in kebab case (`glcmDistance` → `--glcm-distance`).
    static let flags: [String: String] = [
        // Locator (``LocatorSettings``)
        "gridRows": "--grid", "gridColumns": "--grid", "windowSize": "--window", "mode": "--window",
        "windowStride": "--stride", "algorithm": "--cluster-method", "clusterCount": "--clusters", "picked": "--pick",
        // Pixel classification and U-Net training (``PixelClassifier/TrainingOptions``, ``UNetTrainingOptions``)
        "intensityNormalization": "--normalize", "validationFraction": "--validation", "baseWidth": "--width",
        "normalization": "--layer-norm", "batchSize": "--batch", "diceWeight": "--dice", "weightAveraging": "--averaging",
        "augmentation": "--augment", "augmentation.probability": "--augment-probability", "flattening": "--flatten-sigma",
        "treeCount": "--trees",
        // Objects (``ObjectsOptions``, ``ObjectClustering``, ``ObjectMeasurement``)
        "columns": "--on", "minimumSize": "--min-size", "splitHeight": "--split-h", "classValue": "--class",
        "rules": "--rule", "shellCount": "--shells",
        // Lithology (``LithologyOptions``)
        "targetCount": "--targets",
        // Samples
        "particlesPerTile": "--particles",
        // Registration and label transfer
        "erosionFactor": "--erode-factor",
        // Slurm submission (``SlurmJobScripts``): some fields are no flag but a part of the command line
        "timeLimit": "--time", "memory": "--mem", "taskCount": "--tasks", "outputDirectory": "the output folder",
        "workingDirectory": "the current folder", "executable": "the cleave binary", "command": "the command to run",
    ]

    /// The few fields whose flag depends on the command.
    static let commandFlags: [String: [String: String]] = [
        "lithology": ["blockSize": "--block"],
    ]

    /// The flag for `field` in `command` (`--` plus the field in kebab case unless the tables say otherwise).
    static func flag(for field: String, command: String?) -> String {
        if let command, let flag = commandFlags[command]?[field] { return flag }
        if let flag = flags[field] { return flag }
        return "--" + field.reduce(into: "") { out, c in
            if c.isUppercase { out += "-" + c.lowercased() } else if c == "." { out += "-" } else { out.append(c) }
        }
    }

    /// A module error in the command line's words: an invalid field as `--flag value: reason`,
    /// fields named inside a message as their flags.
    static func message(for error: any Error, command: String?) -> String {
        guard let invalid = (error as? any FieldNamingError)?.invalidField else {
            return renaming(String(describing: error), command: command)
        }
        var flag = flag(for: invalid.field, command: command), value = invalid.value
        if invalid.field == "reduce" {
            // LocatorSettings.reduce is `pca:N` or `nmf:N`, given as --pca N or --nmf N.
            let parts = (value ?? "").split(separator: ":", maxSplits: 1).map(String.init)
            flag = parts.first == "nmf" ? "--nmf" : "--pca"
            if parts.count == 2 { value = parts[1] }
        }
        let reason = renaming(invalid.reason, command: command)
        return InvalidField(field: flag, value: value, reason: reason).description
    }

    /// Replaces every `` `field` `` in `text` by its flag.
    static func renaming(_ text: String, command: String?) -> String {
        InvalidField.renamingFields(in: text) { flag(for: $0, command: command) }
    }

    /// The subcommand's name as typed (`cleave locate …` → `locate`).
    static func commandName(_ command: ParsableCommand) -> String? {
        type(of: command).configuration.commandName
    }
}
