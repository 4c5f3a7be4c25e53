import Testing
import Foundation
import CleaveTestSupport

/// The Slurm check of issue 20 as part of the test suite: a 4-task `cleave submit` array on a real
/// slurmctld/slurmd equals the single-process `cleave predict` byte for byte, and a cancelled task
/// is named and can be resubmitted (`Tests/slurm/array.sh`, run with the `cleave` built beside this
/// test bundle).
///
/// When no cluster answers `sinfo`, the test starts a one-node cluster on this host with
/// `Tests/slurm/start-slurm.sh` (munged, slurmctld, slurmd: needs root and Debian's `slurm-wlm` and
/// `munge`) and stops it afterwards with `stop-slurm.sh`; a cluster that was already up is used and
/// left running. Without Slurm or root the test is skipped, saying which; `CLEAVE_REQUIRE_SLURM=1`
/// (set by `.ci/run`) turns that skip into a failure, and `CLEAVE_SLURM_TESTS=0` skips it on purpose.
@Suite(.serialized) struct SlurmArrayTests {
    static let environment = ProcessInfo.processInfo.environment

    /// Where the scripts look for the Slurm and munge daemons (root's PATH has the sbin folders;
    /// `swift test` run by another user may not).
    static let searchPath: String = {
        var parts = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        for extra in ["/usr/sbin", "/sbin", "/usr/local/sbin"] where !parts.contains(extra) { parts.append(extra) }
        return parts.joined(separator: ":")
    }()

    /// The `cleave` executable built with this test bundle (`CLEAVE_BINARY` overrides).
    static let cleaveBinary: String = {
        if let custom = environment["CLEAVE_BINARY"] { return custom }
        let bundle = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return ((bundle as NSString).deletingLastPathComponent as NSString).appendingPathComponent("cleave")
    }()

    static func onPath(_ tool: String) -> Bool {
        searchPath.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
    }

    /// True when a Slurm controller answers on this host.
    static var clusterAnswers: Bool {
        onPath("sinfo") && run(["sinfo", "-h"], timeout: 30).status == 0
    }

    /// Why the check cannot run here (nil: it can).
    static let unavailable: String? = {
        if environment["CLEAVE_SLURM_TESTS"] == "0" { return "CLEAVE_SLURM_TESTS=0: the Slurm array check is turned off" }
        guard FileManager.default.isExecutableFile(atPath: cleaveBinary) else {
            return "no cleave executable at \(cleaveBinary) (build it with swift build -c release, or set CLEAVE_BINARY)"
        }
        if clusterAnswers { return nil }
        let missing = ["munged", "slurmctld", "slurmd", "sbatch", "sinfo", "scontrol"].filter { !onPath($0) }
        if !missing.isEmpty {
            return "Slurm is not installed here (no \(missing.joined(separator: ", ")) on PATH; apt-get install slurm-wlm munge): the 4-task array check is skipped"
        }
        if getuid() != 0 {
            return "no Slurm cluster answers sinfo, and starting munged, slurmctld and slurmd on localhost needs root (this is uid \(getuid())): the 4-task array check is skipped"
        }
        return nil
    }()

    static var required: Bool { environment["CLEAVE_REQUIRE_SLURM"] == "1" }

    @Test(.disabled(if: unavailable != nil && !required, Comment(rawValue: unavailable ?? "")))
    func fourTaskArrayEqualsOneProcess() {
        if let reason = Self.unavailable {
            Issue.record("CLEAVE_REQUIRE_SLURM=1 but \(reason)")
            return
        }
        let scripts = TestData.repositoryRoot + "/Tests/slurm"
        let started = !Self.clusterAnswers
        if started {
            let start = Self.run(["bash", scripts + "/start-slurm.sh"], timeout: 180)
            guard start.status == 0 else {
                Issue.record("a one-node Slurm cluster did not start on this host: \(start.output.suffix(3000))")
                return
            }
        }
        defer {
            if started {
                let stop = Self.run(["bash", scripts + "/stop-slurm.sh"], timeout: 60)
                if stop.status != 0 { Issue.record("stop-slurm.sh: \(stop.output)") }
            }
        }
        let check = Self.run(["bash", scripts + "/array.sh", Self.cleaveBinary], timeout: 900)
        let summary = check.output.split(separator: "\n").last.map(String.init) ?? ""
        #expect(check.status == 0, "Tests/slurm/array.sh ended \(check.status):\n\(check.output.suffix(4000))")
        #expect(summary.hasPrefix("slurm: ") && summary.hasSuffix(" 0 failed") && !summary.hasPrefix("slurm: 0 passed"),
                "array.sh did not run its checks: \(summary)")
    }

    /// Runs `arguments` (looked up on ``searchPath``) under timeout(1), which ends the whole process
    /// group after `timeout` seconds (status 124); standard output and error together.
    ///
    /// Spawned with an empty signal mask and default signal actions: test threads block most
    /// signals and a child inherits that mask, so daemons started from a test (slurmd, slurmctld,
    /// munged) would ignore stop-slurm.sh's SIGTERM. (Not Foundation's Process: besides the mask,
    /// its waitUntilExit never returned here for a child that had ended.)
    static func run(_ arguments: [String], timeout: Int) -> (status: Int32, output: String) {
        let log = NSTemporaryDirectory() + "cleave-slurm-test-\(UUID().uuidString).log"
        defer { unlink(log) }
        let words = ["timeout", "-k", "10", String(timeout)] + arguments
        let command = "PATH=\(quoted(searchPath)) exec \(words.map(quoted).joined(separator: " ")) > \(quoted(log)) 2>&1 < /dev/null"
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = [String](["/bin/sh", "-c", command]).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, "/bin/sh", nil, &attributes, argv, environ)
        guard spawned == 0 else { return (-1, "posix_spawn /bin/sh: \(String(cString: strerror(spawned)))") }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS (macros Swift does not import): low 7 bits the signal, else the code.
        let status: Int32 = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + raw & 0x7f
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return (status, status == 124 ? text + "\n(ended after \(timeout) s)" : text)
    }

    /// `text` as one word for /bin/sh.
    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
