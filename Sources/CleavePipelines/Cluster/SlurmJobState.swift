import Foundation

/// The state of one Slurm job (or one array task) as `scontrol -o show job` reports it.
public struct SlurmJobState: Equatable, Sendable {
    /// `JobId` of the record (for an array task: the task's own job ID).
    public let jobID: String
    /// `ArrayTaskId`: one task (`2`), or the still pending ones (`1-3`, `0,2`); nil outside arrays.
    public let arrayTask: String?
    /// `JobState`, e.g. `PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `CANCELLED`.
    public let state: String
    /// `Reason` (why a job waits or was cancelled, e.g. `Dependency`, `DependencyNeverSatisfied`).
    public let reason: String?
    /// `ExitCode` as `status:signal`.
    public let exitCode: String?
    /// `StdOut`: the job's log file.
    public let logPath: String?
    /// `RunTime` in seconds (whole seconds, as Slurm counts them).
    public let runSeconds: Int?

    /// States after which a job never runs again (Slurm's "completed" job states).
    public static let finalStates: Set<String> = ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY",
                                                   "PREEMPTED", "BOOT_FAIL", "DEADLINE", "REVOKED", "SPECIAL_EXIT"]

    /// True once the job has ended, whether it succeeded or not.
    public var isFinal: Bool { Self.finalStates.contains(state) }

    /// The array task indices this record stands for (`1-3` is 1, 2, 3; `0,2,5-6` is 0, 2, 5, 6;
    /// a `%` limit is ignored); empty outside arrays.
    public var taskIndices: [Int] {
        guard let arrayTask else { return [] }
        let spec = arrayTask.split(separator: "%")[0]   // "0-7%2": at most 2 at once
        return spec.split(separator: ",").flatMap { part -> [Int] in
            let ends = part.split(separator: "-").compactMap { Int($0) }
            if ends.count == 2, ends[1] >= ends[0] { return Array(ends[0]...ends[1]) }
            return ends.count == 1 ? ends : []
        }
    }

    /// Number of array tasks this record stands for (1 outside arrays).
    public var taskCount: Int { arrayTask == nil ? 1 : taskIndices.count }

    /// Parses `scontrol -o show job ID`: one record per line (an array gives one per task and one
    /// for its pending tasks) of space-separated `Key=Value` fields. Lines without `JobId` and
    /// `JobState` (messages such as "Invalid job id specified") are skipped.
    ///
    /// A value may contain spaces only in the last fields that Cleave does not read (`Command=`,
    /// `WorkDir=`, `StdOut=` of paths with spaces): `StdOut` is therefore taken up to the next
    /// known key rather than to the next space.
    public static func parse(scontrolOutput: String) -> [SlurmJobState] {
        scontrolOutput.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = fieldsOf(String(line))
            guard let id = fields["JobId"], let state = fields["JobState"] else { return nil }
            return SlurmJobState(jobID: id, arrayTask: fields["ArrayTaskId"], state: state, reason: fields["Reason"].flatMap { $0 == "None" ? nil : $0 },
                                 exitCode: fields["ExitCode"], logPath: fields["StdOut"], runSeconds: fields["RunTime"].flatMap(seconds))
        }
    }

    /// Seconds in Slurm's `[D-]HH:MM:SS` (also `MM:SS`, `SS`); nil for anything else.
    static func seconds(_ text: String) -> Int? {
        let dash = text.split(separator: "-", omittingEmptySubsequences: false)
        guard dash.count <= 2 else { return nil }
        let days = dash.count == 2 ? Int(dash[0]) : 0
        let parts = dash[dash.count - 1].split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard let days, (1...3).contains(parts.count), parts.allSatisfy({ $0 != nil && $0! >= 0 }) else { return nil }
        return parts.reduce(0) { $0 * 60 + $1! } + days * 86_400
    }

    /// `Key=Value` fields; a value runs to the next ` Key=` whose key is a capitalised word, so
    /// that paths with spaces (`StdOut=/data/my run/x.out`) stay whole.
    static func fieldsOf(_ line: String) -> [String: String] {
        var fields: [String: String] = [:]
        let words = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        var key: String?
        var value = ""
        func isKeyStart(_ word: String) -> (String, String)? {
            guard let equals = word.firstIndex(of: "=") else { return nil }
            let name = word[..<equals]
            guard let first = name.first, first.isUppercase, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == ":" || $0 == "/" }) else { return nil }
            return (String(name), String(word[word.index(after: equals)...]))
        }
        for word in words {
            if let (name, rest) = isKeyStart(word) {
                if let key { fields[key] = value }
                key = name
                value = rest
            } else if key != nil {
                value += " " + word
            }
        }
        if let key { fields[key] = value }
        return fields.mapValues { $0.trimmingCharacters(in: .whitespaces) }
    }
}
