import Testing
import Foundation
import CleaveCore
import CleavePipelines

/// The job scripts of `cleave submit`, run by a real `/bin/sh` against a stand-in `cleave` and a
/// stand-in `sbatch` that record the arguments they get.
@Suite struct SlurmJobScriptsTests {
    static let command = ["predict", "--model", "forest.json", "--out", "out", "vol.ome.zarr"]

    @Test func arrayScriptForAPlainCommand() throws {
        let scripts = try SlurmJobScripts(executable: "/opt/cleave/bin/cleave", command: Self.command, taskCount: 4,
                                          workingDirectory: "/data/run", outputDirectory: "out")
        #expect(scripts.directory == "/data/run/out/slurm")
        #expect(scripts.arrayScriptPath == "/data/run/out/slurm/predict-array.sh")
        #expect(scripts.arrayScript == """
            #!/bin/sh
            # Written by `cleave submit`. Array task i of 4 runs `cleave predict` on share i of the blocks (--blocks i/4).
            # Submit again with: sh /data/run/out/slurm/predict-submit.sh
            #SBATCH --job-name="cleave-predict"
            #SBATCH --array=0-3
            #SBATCH --output="/data/run/out/slurm/logs/predict-%A_%a.out"
            #SBATCH --chdir="/data/run"
            set -eu
            # As many threads as Slurm allocated CPUs (1 unless --cpus-per-task), not the whole node's.
            export CLEAVE_THREADS="${SLURM_CPUS_PER_TASK:-1}"
            cd /data/run   # also when the script is run by hand
            exec /opt/cleave/bin/cleave predict --model forest.json --out out vol.ome.zarr --blocks "$SLURM_ARRAY_TASK_ID/4"

            """)
        #expect(scripts.mergeScript.contains("#SBATCH --kill-on-invalid-dep=yes\n"))
        #expect(scripts.mergeScript.contains("#SBATCH --output=\"/data/run/out/slurm/logs/predict-merge-%j.out\"\n"))
        #expect(scripts.mergeScript.hasSuffix("exec /opt/cleave/bin/cleave predict --model forest.json --out out vol.ome.zarr\n"))
        // Its comment explains that it runs without --blocks; no directive or command line has it.
        let lines = scripts.mergeScript.split(separator: "\n").filter { !$0.hasPrefix("# ") }
        #expect(!lines.contains { $0.contains("--blocks") || $0.contains("--array") })
    }

    @Test(arguments: [(1, "0"), (2, "0-1"), (4, "0-3"), (100_000, "0-99999")])
    func arrayRangeCoversEveryTask(taskCount: Int, range: String) throws {
        let scripts = try SlurmJobScripts(executable: "/c", command: Self.command, taskCount: taskCount, workingDirectory: "/w", outputDirectory: "o")
        #expect(scripts.arrayRange == range)
        #expect(scripts.arrayScript.contains("#SBATCH --array=\(range)\n"))
        #expect(scripts.arrayScript.contains("--blocks \"$SLURM_ARRAY_TASK_ID/\(taskCount)\"\n"))
    }

    @Test func resourcesBecomeDirectivesOfBothJobs() throws {
        let resources = SlurmResources(partition: "short,long", timeLimit: "1-02:00:00", cpusPerTask: 8, memory: "16G")
        let scripts = try SlurmJobScripts(executable: "/c", command: Self.command, taskCount: 3, resources: resources,
                                          workingDirectory: "/w", outputDirectory: "/abs/out")
        #expect(scripts.directory == "/abs/out/slurm")
        for script in [scripts.arrayScript, scripts.mergeScript] {
            #expect(script.contains("#SBATCH --partition=short,long\n#SBATCH --time=1-02:00:00\n#SBATCH --cpus-per-task=8\n#SBATCH --mem=16G\n"))
        }
        let plain = try SlurmJobScripts(executable: "/c", command: Self.command, taskCount: 3, workingDirectory: "/w", outputDirectory: "o")
        #expect(!plain.arrayScript.contains("--partition") && !plain.arrayScript.contains("--time") && !plain.arrayScript.contains("--mem"))
    }

    @Test(arguments: [
        (SlurmResources(partition: "my queue"), "partition"), (SlurmResources(partition: ""), "partition"),
        (SlurmResources(timeLimit: "2h"), "timeLimit"), (SlurmResources(timeLimit: "1-2-3"), "timeLimit"),
        (SlurmResources(timeLimit: "1:2:3:4"), "timeLimit"), (SlurmResources(timeLimit: ""), "timeLimit"),
        (SlurmResources(timeLimit: "-5"), "timeLimit"), (SlurmResources(cpusPerTask: 0), "cpusPerTask"),
        (SlurmResources(memory: "8GB"), "memory"), (SlurmResources(memory: "G"), "memory"), (SlurmResources(memory: "-1G"), "memory"),
    ])
    func badResourcesAreRefusedByField(resources: SlurmResources, field: String) {
        #expect { try resources.validate() } throws: { error in
            guard case let .invalidValue(name, _, _) = error as? SlurmJobError else { return false }
            return name == field
        }
    }

    @Test(arguments: ["90", "90:30", "02:00:00", "1-12", "1-12:30", "1-12:30:00", "0"])
    func slurmTimeFormatsAreAccepted(time: String) throws {
        try SlurmResources(timeLimit: time).validate()
    }

    @Test func commandsThatCannotBeWrittenAreRefused() {
        func field(_ make: () throws -> SlurmJobScripts) -> String? {
            do { _ = try make(); return nil } catch let error as SlurmJobError {
                if case let .invalidValue(field, _, _) = error { return field }
                return "other"
            } catch { return "other" }
        }
        #expect(field { try SlurmJobScripts(executable: "/c", command: Self.command + ["--blocks", "1/2"], taskCount: 2, workingDirectory: "/w", outputDirectory: "o") } == "command")
        #expect(field { try SlurmJobScripts(executable: "/c", command: Self.command + ["--blocks=1/2"], taskCount: 2, workingDirectory: "/w", outputDirectory: "o") } == "command")
        #expect(field { try SlurmJobScripts(executable: "/c", command: [], taskCount: 2, workingDirectory: "/w", outputDirectory: "o") } == "command")
        #expect(field { try SlurmJobScripts(executable: "/c", command: Self.command, taskCount: 0, workingDirectory: "/w", outputDirectory: "o") } == "taskCount")
        #expect(field { try SlurmJobScripts(executable: "/c", command: Self.command, taskCount: 100_001, workingDirectory: "/w", outputDirectory: "o") } == "taskCount")
        #expect(field { try SlurmJobScripts(executable: "/c", command: ["predict", "a\nb.zarr"], taskCount: 2, workingDirectory: "/w", outputDirectory: "o") } == "command")
        #expect(field { try SlurmJobScripts(executable: "/c", command: Self.command, taskCount: 2, workingDirectory: "/w", outputDirectory: "o\nx") } == "outputDirectory")
        #expect(field { try SlurmJobScripts(executable: "/c", command: Self.command, taskCount: 2, workingDirectory: "/w", outputDirectory: "a\\b") } == "outputDirectory")
        #expect(field { try SlurmJobScripts(executable: "/c", command: Self.command, taskCount: 2, workingDirectory: "/w", outputDirectory: "o") } == nil)
    }

    @Test func percentInTheLogFolderIsLiteralForSlurm() throws {
        let scripts = try SlurmJobScripts(executable: "/c", command: Self.command, taskCount: 2, workingDirectory: "/w", outputDirectory: "100%/o")
        #expect(scripts.arrayScript.contains("#SBATCH --output=\"/w/100%%/o/slurm/logs/predict-%A_%a.out\"\n"))
    }

    /// Words that break naive quoting: spaces, both quotes, `$`, backticks, `#`, `\`, globs, unicode.
    static let hostile = ["plain", "two words", "it's", "say \"hi\"", "$HOME and `date`", "#not a comment", "back\\slash",
                          "*.zarr", "", "'", "\"", "ümlaut µm", "--model=a b", "a;b|c&d>e<f", "~"]

    @Test func shellQuotingRoundTripsThroughShell() throws {
        for word in Self.hostile {
            let echoed = Self.nulSeparated(try Self.shell("printf '%s\\0' \(SlurmJobScripts.shellQuoted(word))"))
            #expect(echoed == [word], "\(word.debugDescription) -> \(SlurmJobScripts.shellQuoted(word))")
        }
        #expect(SlurmJobScripts.shellQuoted("/data/vol.ome.zarr") == "/data/vol.ome.zarr")
        #expect(SlurmJobScripts.shellQuoted("it's") == "'it'\\''s'")
    }

    /// sbatch reads an `#SBATCH` argument like this (src/sbatch/opt.c, `_get_argument`): a
    /// backslash takes the next character literally, `'` or `"` group until the same quote, and an
    /// unquoted unescaped `#` or whitespace ends the argument.
    static func sbatchArgument(_ text: String) -> String {
        var out = "", quote: Character?, escaped = false
        for c in text {
            if escaped { out.append(c); escaped = false }
            else if c == "\\" { escaped = true }
            else if let q = quote { if c == q { quote = nil } else { out.append(c) } }
            else if c == "\"" || c == "'" { quote = c }
            else if c == "#" || c == " " { break }
            else { out.append(c) }
        }
        return out
    }

    @Test func directiveQuotingRoundTripsThroughSbatchsRule() {
        for word in Self.hostile {
            #expect(Self.sbatchArgument(SlurmJobScripts.directiveQuoted(word)) == word, "\(word.debugDescription)")
        }
        #expect(SlurmJobScripts.directiveQuoted("/a b/\"c\"") == "\"/a b/\\\"c\\\"\"")
    }

    /// Runs the written scripts with /bin/sh in a folder whose name has a space and both quotes,
    /// with a stand-in cleave that records its arguments and working directory.
    @Test func scriptsRunTheCommandWithTheRightWordsAndFolder() throws {
        let root = try Self.temporaryFolder("run 'a' \"b\" $x")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let binary = root + "/my tools/cleave"
        try FileManager.default.createDirectory(atPath: root + "/my tools", withIntermediateDirectories: true)
        try Self.writeExecutable(binary, "#!/bin/sh\npwd > \"$REC.cwd\"\nprintf '%s\\0' \"$@\" > \"$REC.args\"\necho \"$CLEAVE_THREADS\" > \"$REC.threads\"\n")
        let command = ["predict", "--model", "it's a model.json", "--out", "out dir/res \"1\"", "vol $1 `x`.ome.zarr", "#7"]
        let scripts = try SlurmJobScripts(executable: binary, command: command, taskCount: 4,
                                          workingDirectory: root, outputDirectory: "out dir/res \"1\"")
        #expect(scripts.directory == root + "/out dir/res \"1\"/slurm")
        try scripts.write()
        for path in [scripts.arrayScriptPath, scripts.mergeScriptPath, scripts.submitScriptPath] {
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o755, "\(path)")
        }
        var isFolder: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: scripts.logDirectory, isDirectory: &isFolder) && isFolder.boolValue)

        let record = root + "/record"
        _ = try Self.shell("SLURM_ARRAY_TASK_ID=2 SLURM_CPUS_PER_TASK=3 REC=\(SlurmJobScripts.shellQuoted(record)) sh \(SlurmJobScripts.shellQuoted(scripts.arrayScriptPath))", in: "/")
        #expect(try Self.words(record + ".args") == command + ["--blocks", "2/4"])
        #expect(try String(contentsOfFile: record + ".cwd", encoding: .utf8) == root + "\n")
        #expect(try String(contentsOfFile: record + ".threads", encoding: .utf8) == "3\n")

        _ = try Self.shell("REC=\(SlurmJobScripts.shellQuoted(record)) sh \(SlurmJobScripts.shellQuoted(scripts.mergeScriptPath))", in: "/")
        #expect(try Self.words(record + ".args") == command)
        #expect(try String(contentsOfFile: record + ".threads", encoding: .utf8) == "1\n")

        // Every #SBATCH value reads back (by sbatch's rule) as the path it stands for.
        let directives = scripts.arrayScript.split(separator: "\n").filter { $0.hasPrefix("#SBATCH --chdir=") || $0.hasPrefix("#SBATCH --output=") }
        #expect(directives.map { Self.sbatchArgument(String($0.drop { $0 != "=" }.dropFirst())) }
                == [scripts.logDirectory + "/predict-%A_%a.out", root])
    }

    /// The submit script with a stand-in sbatch: the array first, then the merge job after it.
    @Test func submitScriptMakesTheMergeDependOnTheArray() throws {
        let root = try Self.temporaryFolder("submit it's")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        try Self.writeExecutable(root + "/bin/sbatch", """
            #!/bin/sh
            n=$(cat "$REC.count" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$REC.count"
            printf '%s\\0' "$@" > "$REC.$n"
            if [ $n = 1 ]; then echo "41;cluster"; else echo 42; fi

            """)
        let scripts = try SlurmJobScripts(executable: "/c", command: Self.command, taskCount: 4, workingDirectory: root, outputDirectory: "o")
        try scripts.write()
        let record = root + "/rec"
        let output = try Self.shell("PATH=\(SlurmJobScripts.shellQuoted(root + "/bin")):$PATH REC=\(SlurmJobScripts.shellQuoted(record)) sh \(SlurmJobScripts.shellQuoted(scripts.submitScriptPath))")
        #expect(try Self.words(record + ".1") == scripts.arraySubmission)
        #expect(try Self.words(record + ".2") == scripts.mergeSubmission(afterArrayJob: "41"))
        #expect(scripts.mergeSubmission(afterArrayJob: "41") == ["--parsable", "--dependency=afterok:41", scripts.mergeScriptPath])
        #expect(output.contains("array job 41 (4 tasks), merge job 42"))
    }

    @Test func jobIDsFromSbatchParsable() throws {
        #expect(try SlurmJobScripts.jobID(fromParsable: "123\n") == "123")
        #expect(try SlurmJobScripts.jobID(fromParsable: "123;cluster2\n") == "123")
        #expect(try SlurmJobScripts.jobID(fromParsable: "sbatch: warning: something\n77\n") == "77")
        for bad in ["Submitted batch job 5", "", "abc;x"] {
            #expect(throws: SlurmJobError.unreadableJobID(output: bad)) { try SlurmJobScripts.jobID(fromParsable: bad) }
        }
    }

    // MARK: - helpers

    static func temporaryFolder(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "cleave-slurm-test-\(UUID().uuidString)/\(name)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return (path as NSString).standardizingPath
    }

    static func writeExecutable(_ path: String, _ text: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }

    static func words(_ path: String) throws -> [String] {
        let data = try #require(FileManager.default.contents(atPath: path))
        return nulSeparated(String(decoding: data, as: UTF8.self))
    }

    /// Words each ended by a NUL byte (as `printf '%s\0'` writes them).
    static func nulSeparated(_ text: String) -> [String] {
        text.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    /// Runs `script` with /bin/sh -c and returns its standard output.
    @discardableResult
    static func shell(_ script: String, in folder: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "sh -c \(script)")
        return String(decoding: data, as: UTF8.self)
    }
}
