import ArgumentParser
import Foundation
import CleaveCore
import CleaveFormats
import CleavePipelines

/// A command that runs block by block and can take a share of the blocks (`--blocks i/N`):
/// `cleave submit` spreads it over a Slurm job array.
protocol BlockCommand: ParsableCommand {
    /// The folder the command writes into (the job scripts and logs go into its `slurm` subfolder).
    var outputDirectory: String { get }
    /// Checks that the inputs exist and can be read, before anything is submitted.
    func checkInputs() throws
}

extension PredictCommand: BlockCommand {
    var outputDirectory: String { out }

    func checkInputs() throws {
        if case .unknown = try ModelFileKind.detect(path: model) {
            throw CleaveError("\(model): not a model from cleave train")
        }
        for path in images.flatMap({ $0.split(separator: ",").map(String.init) }) { _ = try ImageFile.info(path) }
    }
}

extension ObjectsCommand: BlockCommand {
    var outputDirectory: String { out }

    func checkInputs() throws {
        _ = try ImageFile.info(image)
        for path in [intensity, rules, trainLabels].compactMap({ $0 }) where !FileManager.default.fileExists(atPath: path) {
            throw CleaveError("\(path): no such file")
        }
    }
}

/// `cleave submit`: run a block-wise command as a Slurm job array plus a merge job.
struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Run a block-wise command (predict, objects) on a Slurm cluster as a job array.",
        discussion: """
        Give the command after --, as you would type it on one machine. cleave submit writes \
        job scripts into the output folder's slurm/ and submits them with sbatch:
          predict-array.sh   array task i of N: cleave predict … --blocks i/N
          predict-merge.sh   after every task succeeded: the command without --blocks
                             (blocks still missing, label pyramid, summary files)
          predict-submit.sh  submits both again: sh DIR/slurm/predict-submit.sh
          logs/              one log per array task and one for the merge job
        The nodes need only this cleave binary (its absolute path is in the scripts) and the \
        shared file system. Every job runs in the folder where you typed the command, so \
        relative paths work, with as many threads as it has CPUs (--cpus-per-task). Finished \
        blocks are recorded next to the output: a failed, timed-out or cancelled run continues \
        where it stopped when you submit it again, and the result equals a one-machine run \
        byte for byte.

        Examples:
          cleave submit --tasks 16 --time 02:00:00 --cpus-per-task 8 --mem 16G -- \\
              predict --model forest.json --out results/ volume.ome.zarr
          cleave submit --tasks 4 --dry-run -- \\
              predict --model forest.json --out results/ volume.ome.zarr
          cleave submit --tasks 4 --wait -- \\
              predict --model forest.json --out results/ volume.ome.zarr

        Without Slurm's sbatch on PATH nothing is written or submitted (--dry-run prints the \
        scripts without it). --wait returns when the merge job has ended and exits 0 only if \
        it completed; Ctrl-C stops the waiting, not the jobs (squeue, scancel).
        """)

    @Option(name: .long, help: ArgumentHelp("Array tasks: each processes 1/N of the blocks.", valueName: "N"))
    var tasks: Int

    @Option(name: .long, help: "Slurm partition (default: the cluster's default partition).")
    var partition: String?

    @Option(name: .long, help: ArgumentHelp("Time limit of each job (Slurm's format, e.g. 02:00:00 or 1-12:00:00).", valueName: "HH:MM:SS"))
    var time: String?

    @Option(name: .long, help: "CPUs (threads) per array task and for the merge job (default: Slurm's, usually 1).")
    var cpusPerTask: Int?

    @Option(name: .long, help: ArgumentHelp("Memory per job as Slurm writes it, e.g. 8G (default: the cluster's).", valueName: "SIZE"))
    var mem: String?

    @Flag(name: .long, help: "Print the job scripts; write and submit nothing (needs no Slurm).")
    var dryRun = false

    @Flag(name: .long, help: "Wait until the merge job ends and report its state (exit status 0 only if it completed).")
    var wait = false

    @Option(name: .long, help: ArgumentHelp("Seconds between state queries with --wait.", visibility: .hidden))
    var pollInterval: Double = 2

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The command to run, after --: predict --model M --out DIR VOL.ome.zarr", valueName: "COMMAND"))
    var command: [String] = []

    /// Commands that take `--blocks i/N`.
    static let blockCommands: [any BlockCommand.Type] = [PredictCommand.self, ObjectsCommand.self]

    func validate() throws {
        if command.isEmpty {
            throw ValidationError("Give the command to run after --, e.g. cleave submit --tasks 4 -- predict --model m.json --out out vol.ome.zarr")
        }
        if tasks < 1 { throw ValidationError("--tasks must be at least 1, got \(tasks).") }
        if dryRun && wait { throw ValidationError("--dry-run submits nothing, so there is nothing to --wait for; give one.") }
        if !(pollInterval > 0) { throw ValidationError("--poll-interval must be more than 0, got \(pollInterval).") }
    }

    func run() throws {
        var sbatch: String?
        if !dryRun {
            guard let found = Self.onPath("sbatch") else {
                throw CleaveError("Slurm's sbatch was not found on PATH (\(ProcessInfo.processInfo.environment["PATH"] ?? "PATH not set")): run cleave submit on a Slurm login node, or use --dry-run to see the job scripts")
            }
            sbatch = found
        }
        let inner = try Self.blockCommand(command, taskCount: tasks)
        try inner.checkInputs()
        let scripts: SlurmJobScripts
        do {
            scripts = try SlurmJobScripts(executable: Self.runningExecutable(), command: command, taskCount: tasks,
                                          resources: SlurmResources(partition: partition, timeLimit: time, cpusPerTask: cpusPerTask, memory: mem),
                                          workingDirectory: FileManager.default.currentDirectoryPath, outputDirectory: inner.outputDirectory)
        } catch let error as SlurmJobError {
            throw CleaveError(CommandLineNames.message(for: error, command: "submit"))
        }
        guard let sbatch else {
            for (path, text) in [(scripts.arrayScriptPath, scripts.arrayScript), (scripts.mergeScriptPath, scripts.mergeScript),
                                 (scripts.submitScriptPath, scripts.submitScript)] {
                print("# ---- \(path)")
                print(text)
            }
            ProgressBar.note("dry run: nothing written or submitted")
            return
        }
        try scripts.write()
        let arrayID = try Self.submit(sbatch, scripts.arraySubmission, what: "the array job (\(scripts.arrayScriptPath))")
        let mergeID: String
        do {
            mergeID = try Self.submit(sbatch, scripts.mergeSubmission(afterArrayJob: arrayID), what: "the merge job (\(scripts.mergeScriptPath))")
        } catch {
            if let scancel = Self.onPath("scancel") { _ = try? Self.runTool(scancel, [arrayID]) }
            throw CleaveError("\(error) — array job \(arrayID) was cancelled; nothing runs")
        }
        print("submitted array job \(arrayID) (\(tasks) task\(tasks == 1 ? "" : "s"): cleave \(scripts.commandName) … --blocks i/\(tasks)) and merge job \(mergeID) (after the array succeeds)")
        print("scripts and logs: \(scripts.directory)   (squeue -j \(arrayID),\(mergeID))")
        fflush(stdout)   // the job IDs now, also when standard output is a file or a pipe
        if wait { try waitForMerge(scripts, arrayID: arrayID, mergeID: mergeID) }
    }

    // MARK: - The inner command

    /// Parses `words` as the block-wise command it names, and checks that it also parses with
    /// `--blocks 0/N` (a build without the block runner lacks the option).
    static func blockCommand(_ words: [String], taskCount: Int) throws -> any BlockCommand {
        let names = blockCommands.map { $0.configuration.commandName ?? "" }
        guard let type = blockCommands.first(where: { $0.configuration.commandName == words[0] }) else {
            throw CleaveError("`cleave \(words[0])` does not run in blocks, so it cannot be split into array tasks; commands that can: \(names.joined(separator: ", "))")
        }
        let parsed: ParsableCommand
        do { parsed = try Cleave.parseAsRoot(words) } catch {
            throw CleaveError("the command to run (cleave \(words.joined(separator: " "))): \(firstLine(Cleave.message(for: error)))")
        }
        guard let command = parsed as? any BlockCommand, Swift.type(of: command) == type else {
            throw CleaveError("the command to run is not `cleave \(words[0])`")
        }
        if words.contains(where: { $0 == "--blocks" || $0.hasPrefix("--blocks=") }) {
            throw CleaveError("the command to run has its own --blocks; cleave submit gives each array task --blocks i/\(taskCount)")
        }
        do { _ = try Cleave.parseAsRoot(words + ["--blocks", "0/\(taskCount)"]) } catch {
            let message = firstLine(Cleave.message(for: error))
            // Only ArgumentParser's own "Unknown option '--blocks'": the command's validation also
            // names --blocks (e.g. "--blocks shares the blocks of OME-Zarr volumes; X is not one").
            if message.contains("Unknown option '--blocks'") {
                throw CleaveError("cleave \(words[0]) in this build has no --blocks option (the block runner), so it cannot run as array tasks")
            }
            throw CleaveError("the command to run with --blocks 0/\(taskCount): \(message)")
        }
        return command
    }

    static func firstLine(_ text: String) -> String {
        String(text.split(whereSeparator: \.isNewline).first ?? "")
    }

    // MARK: - Slurm's tools

    /// The first executable `name` in the folders of `PATH`.
    static func onPath(_ name: String) -> String? {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        return folders.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The absolute path of this `cleave` binary (what the nodes run).
    static func runningExecutable() -> String {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return target }
        return Bundle.main.executablePath ?? CommandLine.arguments[0]
    }

    /// Runs `tool arguments` and returns its exit status, standard output and standard error.
    static func runTool(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        // Standard error goes to a file, so that only one pipe is read and neither can fill up.
        let errorPath = NSTemporaryDirectory() + "cleave-\(getpid())-\(UUID().uuidString).err"
        guard FileManager.default.createFile(atPath: errorPath, contents: nil), let errorFile = FileHandle(forWritingAtPath: errorPath) else {
            throw CleaveError("\(errorPath): cannot create a temporary file for \((tool as NSString).lastPathComponent)'s messages")
        }
        defer { try? errorFile.close(); unlink(errorPath) }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = errorFile
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errorData = FileManager.default.contents(atPath: errorPath) ?? Data()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    /// Submits with `sbatch --parsable …` and returns the job ID.
    static func submit(_ sbatch: String, _ arguments: [String], what: String) throws -> String {
        let result = try runTool(sbatch, arguments)
        guard result.status == 0 else {
            let why = firstLine(result.error.isEmpty ? result.output : result.error)
            throw CleaveError("sbatch refused \(what): \(why.isEmpty ? "exit status \(result.status)" : why)")
        }
        do { return try SlurmJobScripts.jobID(fromParsable: result.output) } catch let error as SlurmJobError {
            throw CleaveError("submitting \(what): \(error)")
        }
    }

    // MARK: - --wait

    /// Polls `scontrol` until the merge job has ended; prints progress lines on state changes.
    /// - Throws: when the merge job ended in any state but COMPLETED (naming the failed tasks' logs).
    func waitForMerge(_ scripts: SlurmJobScripts, arrayID: String, mergeID: String) throws {
        guard let scontrol = Self.onPath("scontrol") else {
            throw CleaveError("Slurm's scontrol was not found on PATH, so --wait cannot follow the jobs; they run on (squeue -j \(arrayID),\(mergeID))")
        }
        func query(_ id: String) throws -> [SlurmJobState]? {
            let result = try Self.runTool(scontrol, ["-o", "show", "job", id])
            return result.status == 0 ? SlurmJobState.parse(scontrolOutput: result.output) : nil
        }
        var lastLine = ""
        var misses = 0
        var array: [SlurmJobState] = []
        while true {
            if let records = try query(arrayID), !records.isEmpty { array = records }
            let ended = array.filter { $0.arrayTask != nil && $0.isFinal }.reduce(0) { $0 + $1.taskCount }
            let running = array.filter { $0.arrayTask != nil && $0.state == "RUNNING" }.reduce(0) { $0 + $1.taskCount }
            guard let merge = try query(mergeID)?.first else {
                // The controller forgets a job MinJobAge seconds (default 300) after it ended.
                misses += 1
                if misses >= 3 {
                    throw CleaveError("merge job \(mergeID) is no longer known to slurmctld; see its log in \(scripts.logDirectory)")
                }
                Thread.sleep(forTimeInterval: pollInterval)
                continue
            }
            misses = 0
            let line = "array: \(ended)/\(tasks) tasks ended, \(running) running; merge job \(mergeID): \(merge.state)"
            if line != lastLine { ProgressBar.note(line); lastLine = line }
            if merge.isFinal {
                try report(merge, array: array, scripts: scripts, arrayID: arrayID, mergeID: mergeID)
                return
            }
            Thread.sleep(forTimeInterval: pollInterval)
        }
    }

    /// Tasks 0…N−1 that no record of the array mentions (nil when there is no record at all).
    static func tasksWithoutRecord(_ array: [SlurmJobState], taskCount: Int) -> [Int]? {
        guard !array.isEmpty else { return nil }
        let seen = Set(array.flatMap(\.taskIndices))
        return (0..<taskCount).filter { !seen.contains($0) }
    }

    func report(_ merge: SlurmJobState, array: [SlurmJobState], scripts: SlurmJobScripts, arrayID: String, mergeID: String) throws {
        let taskTimes = array.filter { $0.arrayTask != nil && $0.state == "COMPLETED" }.compactMap(\.runSeconds)
        let mergeLog = merge.logPath ?? scripts.mergeLogPath(jobID: mergeID)
        if merge.state == "COMPLETED" {
            var line = "merge job \(mergeID) COMPLETED"
            if let seconds = merge.runSeconds { line += " in \(seconds) s" }
            if let slowest = taskTimes.max() { line += "; array tasks ran \(taskTimes.min()!)–\(slowest) s each" }
            print(line + " (log: \(mergeLog))")
            return
        }
        let failed = array.filter { $0.arrayTask != nil && $0.isFinal && $0.state != "COMPLETED" }
        var why = "merge job \(mergeID) ended \(merge.state)"
        if let reason = merge.reason { why += " (\(reason))" }
        if let first = failed.first, let task = first.arrayTask {
            why += "; array task \(task) \(first.state) (exit \(first.exitCode ?? "?")), log \(first.logPath ?? scripts.arrayLogPath(jobID: arrayID, task: Int(task) ?? 0))"
            if failed.count > 1 { why += " and \(failed.count - 1) more" }
        } else if let missing = Self.tasksWithoutRecord(array, taskCount: tasks), !missing.isEmpty, merge.reason?.hasPrefix("Dependency") == true {
            // A task cancelled while it was pending leaves no record at all.
            why += "; array task\(missing.count == 1 ? "" : "s") \(missing.map(String.init).joined(separator: ", ")) never ran (cancelled before it started)"
        } else {
            why += " (exit \(merge.exitCode ?? "?")), log \(mergeLog)"
        }
        throw CleaveError(why + "; finished blocks are kept: resubmit with sh \(SlurmJobScripts.shellQuoted(scripts.submitScriptPath))")
    }
}
