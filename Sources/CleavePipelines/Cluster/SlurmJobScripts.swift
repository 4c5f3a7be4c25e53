import Foundation
import CleaveCore

/// What a Slurm job asks the scheduler for; `nil` leaves the cluster's default.
public struct SlurmResources: Equatable, Sendable {
    /// Partition (queue) name, or a comma-separated list of them.
    public var partition: String?
    /// Wall-time limit per job in one of Slurm's forms (`MM`, `MM:SS`, `HH:MM:SS`, `D-HH`,
    /// `D-HH:MM`, `D-HH:MM:SS`).
    public var timeLimit: String?
    /// CPUs per task (≥ 1); Cleave runs that many threads in each job.
    public var cpusPerTask: Int?
    /// Memory per node as Slurm writes it: a whole number with an optional K, M, G or T suffix.
    public var memory: String?

    /// Resources to ask for; nil everywhere = the cluster's defaults. ``validate()`` checks the syntax.
    public init(partition: String? = nil, timeLimit: String? = nil, cpusPerTask: Int? = nil, memory: String? = nil) {
        self.partition = partition
        self.timeLimit = timeLimit
        self.cpusPerTask = cpusPerTask
        self.memory = memory
    }

    /// Checks every value against the syntax Slurm accepts, so that a typo is reported here in
    /// one line instead of by `sbatch` after the job scripts were written.
    /// - Throws: ``SlurmJobError/invalidValue(field:value:reason:)`` naming the field.
    public func validate() throws {
        if let partition {
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_.,-"))
            guard !partition.isEmpty, partition.unicodeScalars.allSatisfy({ allowed.contains($0) && $0.isASCII }) else {
                throw SlurmJobError.invalidValue(field: "partition", value: partition,
                                                 reason: "a partition name has only letters, digits, '_', '.', '-' (a list: commas)")
            }
        }
        if let timeLimit, !Self.isTimeLimit(timeLimit) {
            throw SlurmJobError.invalidValue(field: "timeLimit", value: timeLimit,
                                             reason: "expected Slurm's MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS, e.g. 02:00:00")
        }
        if let cpusPerTask, cpusPerTask < 1 {
            throw SlurmJobError.invalidValue(field: "cpusPerTask", value: String(cpusPerTask), reason: "must be at least 1")
        }
        if let memory, !Self.isMemory(memory) {
            throw SlurmJobError.invalidValue(field: "memory", value: memory,
                                             reason: "expected a whole number with an optional K, M, G or T suffix, e.g. 8G")
        }
    }

    /// Slurm's time formats: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S` (whole numbers).
    static func isTimeLimit(_ text: String) -> Bool {
        func numbers(_ part: Substring, count: ClosedRange<Int>) -> Bool {
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            return count.contains(fields.count) && fields.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
        }
        let dash = text.split(separator: "-", omittingEmptySubsequences: false)
        switch dash.count {
        case 1: return numbers(dash[0], count: 1...3)
        case 2: return numbers(dash[0], count: 1...1) && numbers(dash[1], count: 1...3)
        default: return false
        }
    }

    static func isMemory(_ text: String) -> Bool {
        var digits = Substring(text)
        if let last = digits.last, "KMGTkmgt".contains(last) { digits = digits.dropLast() }
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }
}

/// Bad settings for a Slurm submission, or an answer from Slurm that Cleave cannot read.
public enum SlurmJobError: FieldNamingError, Equatable {
    /// A setting that Slurm would refuse or misread.
    case invalidValue(field: String, value: String, reason: String)
    /// `sbatch --parsable` printed something that is not a job ID.
    case unreadableJobID(output: String)

    /// One line naming the field and its value (or what `sbatch` answered) and why it cannot be used.
    public var description: String {
        switch self {
        case let .invalidValue(field, value, reason): return "\(field) \(value): \(reason)"
        case let .unreadableJobID(output):
            return "sbatch answered '\(output.trimmingCharacters(in: .whitespacesAndNewlines))' instead of a job ID"
        }
    }
}

/// The job scripts that run one block-wise Cleave command as a Slurm job array plus a final
/// merge job, written next to the command's output so that users can read and resubmit them:
///
///     OUT/slurm/predict-array.sh    array task i runs  cleave predict … --blocks i/N
///     OUT/slurm/predict-merge.sh    runs  cleave predict …  (leftover blocks, pyramid, summary)
///     OUT/slurm/predict-submit.sh   sbatch array; sbatch --dependency=afterok:ARRAY merge
///     OUT/slurm/logs/               one log per array task and one for the merge
///
/// The scripts need nothing on the nodes but the `cleave` binary (by its absolute path) and the
/// shared file system: every job changes to the submission's working directory, so relative
/// paths in the command mean what they meant where it was submitted. Each job runs as many
/// threads as Slurm gave it CPUs (`CLEAVE_THREADS`; results do not depend on it).
///
/// Quoting: the command's words are single-quoted for `/bin/sh`; paths in `#SBATCH` lines are
/// double-quoted with `\` escapes as `sbatch` reads them, and `%` in log paths is doubled
/// (Slurm's file-name patterns). A newline cannot be written in either and is refused, as is a
/// backslash in the log folder (it switches Slurm's file-name patterns off).
public struct SlurmJobScripts: Equatable, Sendable {
    /// The `cleave` binary the nodes run (absolute path).
    public let executable: String
    /// The block-wise command without `--blocks`, e.g. `["predict", "--model", "m.json", "--out", "out", "vol.ome.zarr"]`.
    public let command: [String]
    /// Number of array tasks (N in `--blocks i/N`), ≥ 1.
    public let taskCount: Int
    /// What each job asks for (validated).
    public let resources: SlurmResources
    /// Absolute directory the jobs run in (where the command was typed).
    public let workingDirectory: String
    /// Absolute folder holding the scripts (`OUT/slurm`).
    public let directory: String

    /// - Parameters:
    ///   - executable: the `cleave` binary; made absolute against `workingDirectory`.
    ///   - command: the subcommand and its arguments, without `--blocks`.
    ///   - taskCount: array tasks, 1…100 000.
    ///   - resources: checked with ``SlurmResources/validate()``.
    ///   - workingDirectory: absolute path the jobs `cd` to.
    ///   - outputDirectory: the command's output folder (relative to `workingDirectory` or absolute);
    ///     the scripts go into its `slurm` subfolder.
    /// - Throws: ``SlurmJobError/invalidValue(field:value:reason:)`` for a bad task count, a bad
    ///   resource value, a command with its own `--blocks`, or a path that a script cannot hold.
    public init(executable: String, command: [String], taskCount: Int, resources: SlurmResources = SlurmResources(),
                workingDirectory: String, outputDirectory: String) throws {
        precondition(workingDirectory.hasPrefix("/"), "SlurmJobScripts: workingDirectory must be absolute, got \(workingDirectory)")
        guard let name = command.first, !name.isEmpty else {
            throw SlurmJobError.invalidValue(field: "command", value: "", reason: "give the Cleave command to run, e.g. predict --model m.json --out out vol.ome.zarr")
        }
        if command.contains(where: { $0 == "--blocks" || $0.hasPrefix("--blocks=") }) {
            throw SlurmJobError.invalidValue(field: "command", value: command.joined(separator: " "),
                                             reason: "has its own --blocks; the array sets --blocks i/\(taskCount) for each task")
        }
        guard (1...100_000).contains(taskCount) else {
            throw SlurmJobError.invalidValue(field: "taskCount", value: String(taskCount), reason: "must be between 1 and 100000")
        }
        try resources.validate()
        func absolute(_ path: String) -> String {
            let joined = path.hasPrefix("/") ? path : (workingDirectory as NSString).appendingPathComponent(path)
            return (joined as NSString).standardizingPath
        }
        self.executable = absolute(executable)
        self.command = command
        self.taskCount = taskCount
        self.resources = resources
        self.workingDirectory = workingDirectory
        self.directory = (absolute(outputDirectory) as NSString).appendingPathComponent("slurm")
        for (field, value) in [("executable", self.executable), ("workingDirectory", workingDirectory), ("outputDirectory", directory)]
            + command.map({ ("command", $0) }) where value.contains("\n") || value.contains("\r") {
            throw SlurmJobError.invalidValue(field: field, value: value.debugDescription, reason: "a line break cannot be written into a job script")
        }
        if directory.contains("\\") {
            throw SlurmJobError.invalidValue(field: "outputDirectory", value: directory,
                                             reason: "a backslash in the log folder turns Slurm's file-name patterns (%A, %a) off")
        }
    }

    /// The subcommand's name, used in file and job names (`predict`).
    public var commandName: String { command[0] }
    /// Job name in `squeue` (`cleave-predict`).
    public var jobName: String { "cleave-\(commandName)" }
    /// The array job's script (`<command>-array.sh`): task i runs the command with `--blocks i/N`.
    public var arrayScriptPath: String { path("\(commandName)-array.sh") }
    /// The merge job's script (`<command>-merge.sh`): the whole command once more (leftover blocks, pyramid, summary) after every array task succeeded.
    public var mergeScriptPath: String { path("\(commandName)-merge.sh") }
    /// The script that submits both jobs (`<command>-submit.sh`).
    public var submitScriptPath: String { path("\(commandName)-submit.sh") }
    /// Folder of the jobs' Slurm logs (`slurm/logs` in the output folder).
    public var logDirectory: String { path("logs") }
    /// Log of array task `task` of job `jobID` (Slurm's `%A_%a`).
    public func arrayLogPath(jobID: String, task: Int) -> String { (logDirectory as NSString).appendingPathComponent("\(commandName)-\(jobID)_\(task).out") }
    /// Log of the merge job (Slurm's `%j`).
    public func mergeLogPath(jobID: String) -> String { (logDirectory as NSString).appendingPathComponent("\(commandName)-merge-\(jobID).out") }

    private func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    /// The `--array` value: tasks 0…N−1.
    public var arrayRange: String { taskCount == 1 ? "0" : "0-\(taskCount - 1)" }

    /// Array task script: task `$SLURM_ARRAY_TASK_ID` runs the command with `--blocks i/N`.
    public var arrayScript: String {
        script(summary: "Array task i of \(taskCount) runs `cleave \(commandName)` on share i of the blocks (--blocks i/\(taskCount)).",
               directives: [("job-name", Self.directiveQuoted(jobName)), ("array", arrayRange),
                            ("output", Self.directiveQuoted(Self.patternEscaped(logDirectory) + "/\(commandName)-%A_%a.out"))],
               run: Self.shellCommand([executable] + command) + " --blocks \"$SLURM_ARRAY_TASK_ID/\(taskCount)\"")
    }

    /// Merge script: the command without `--blocks` (the blocks left over, then the finishing steps).
    public var mergeScript: String {
        script(summary: "Runs `cleave \(commandName)` without --blocks after the array: it processes any block still missing and finishes the output. Submitted by \((submitScriptPath as NSString).lastPathComponent) with --dependency=afterok:<array job>.",
               directives: [("job-name", Self.directiveQuoted(jobName + "-merge")),
                            ("output", Self.directiveQuoted(Self.patternEscaped(logDirectory) + "/\(commandName)-merge-%j.out")),
                            ("kill-on-invalid-dep", "yes")],
               run: Self.shellCommand([executable] + command))
    }

    /// Submission script: the array, then the merge job that starts when every array task succeeded.
    public var submitScript: String {
        """
        #!/bin/sh
        # Written by `cleave submit`. Submits the array and the merge job that waits for it:
        #   sh \(Self.shellQuoted(submitScriptPath))
        # Finished blocks are recorded next to the output, so a resubmission continues where the
        # last run stopped.
        set -eu
        array=$(sbatch --parsable \(Self.shellQuoted(arrayScriptPath)))
        array=${array%%;*}
        merge=$(sbatch --parsable --dependency=afterok:"$array" \(Self.shellQuoted(mergeScriptPath)))
        echo "array job $array (\(taskCount) task\(taskCount == 1 ? "" : "s")), merge job ${merge%%;*} (runs after the array succeeds)"

        """
    }

    /// `sbatch` arguments that submit the array (job ID on standard output with `--parsable`).
    public var arraySubmission: [String] { ["--parsable", arrayScriptPath] }

    /// `sbatch` arguments that submit the merge job after array job `arrayJobID`.
    public func mergeSubmission(afterArrayJob arrayJobID: String) -> [String] {
        ["--parsable", "--dependency=afterok:\(arrayJobID)", mergeScriptPath]
    }

    /// Writes the three scripts (executable, each whole or not at all) and creates the log folder.
    /// - Throws: ``PipelineFileError`` when the folder cannot be created or a file cannot be written.
    public func write() throws {
        do {
            try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        } catch {
            throw PipelineFileError.cannotCreateFolder(path: logDirectory, field: nil, reason: "\(error.localizedDescription) (it holds the job scripts and logs)")
        }
        for (path, text) in [(arrayScriptPath, arrayScript), (mergeScriptPath, mergeScript), (submitScriptPath, submitScript)] {
            let temporary = AtomicFile.temporaryPath(for: path)
            try AtomicFile.writeTemporary(Data(text.utf8), to: temporary, for: path)
            chmod(temporary, 0o755)
            try AtomicFile.commit(temporary, to: path)
        }
    }

    private func script(summary: String, directives: [(String, String)], run: String) -> String {
        var lines = ["#!/bin/sh", "# Written by `cleave submit`. \(summary)",
                     "# Submit again with: sh \(Self.shellQuoted(submitScriptPath))"]
        var all = directives + [("chdir", Self.directiveQuoted(workingDirectory))]
        if let partition = resources.partition { all.append(("partition", partition)) }
        if let time = resources.timeLimit { all.append(("time", time)) }
        if let cpus = resources.cpusPerTask { all.append(("cpus-per-task", String(cpus))) }
        if let memory = resources.memory { all.append(("mem", memory)) }
        lines += all.map { "#SBATCH --\($0.0)=\($0.1)" }
        lines += [
            "set -eu",
            "# As many threads as Slurm allocated CPUs (1 unless --cpus-per-task), not the whole node's.",
            "export CLEAVE_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"",
            "cd \(Self.shellQuoted(workingDirectory))   # also when the script is run by hand",
            "exec \(run)",
            "",
        ]
        return lines.joined(separator: "\n")
    }

    // MARK: - Quoting

    /// `text` as one word for `/bin/sh`: single quotes, with `'` written as `'\''`.
    public static func shellQuoted(_ text: String) -> String {
        let safe = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "/._-+=:,@%"))
        if !text.isEmpty, text.unicodeScalars.allSatisfy({ $0.isASCII && safe.contains($0) }) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Words joined for `/bin/sh`, each quoted by ``shellQuoted(_:)``.
    public static func shellCommand(_ words: [String]) -> String { words.map(shellQuoted).joined(separator: " ") }

    /// `text` as one argument of an `#SBATCH` line: in double quotes, with `\` and `"` escaped by
    /// a backslash (sbatch's own rule; `#` and `'` are literal inside the quotes).
    public static func directiveQuoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// A literal path inside a Slurm file-name pattern: `%` doubled.
    public static func patternEscaped(_ path: String) -> String { path.replacingOccurrences(of: "%", with: "%%") }

    /// The job ID from `sbatch --parsable` (`123` or `123;cluster`).
    /// - Throws: ``SlurmJobError/unreadableJobID(output:)`` for anything else.
    public static func jobID(fromParsable output: String) throws -> String {
        let line = output.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        let id = String(line.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]).trimmingCharacters(in: .whitespaces)
        guard !id.isEmpty, id.allSatisfy({ $0.isASCII && $0.isNumber }) else { throw SlurmJobError.unreadableJobID(output: output) }
        return id
    }
}

extension SlurmJobError {
    /// The job field of ``invalidValue(field:value:reason:)``; nil for every other case.
    public var invalidField: InvalidField? {
        guard case let .invalidValue(field, value, reason) = self else { return nil }
        return InvalidField(field: field, value: value, reason: reason)
    }
}
