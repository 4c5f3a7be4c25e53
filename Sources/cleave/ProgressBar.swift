import CleaveCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A progress bar on standard error for long jobs (silent when stderr is not a terminal,
/// except for one line per stage so that logs still show what happened).
enum ProgressBar {
    static func make() -> Progress {
        let interactive = isatty(2) != 0
        let state = ProgressState()
        return Progress { done, total, stage in
            state.update(done: done, total: total, stage: stage, interactive: interactive)
        }
    }

    /// Writes a line to standard error.
    static func note(_ text: String) {
        fputs(text + "\n", stderr)
    }
}

final class ProgressState: @unchecked Sendable {
    private var lock = pthread_mutex_t()
    private var lastStage = ""
    private var lastPercent = -1

    init() { pthread_mutex_init(&lock, nil) }
    deinit { pthread_mutex_destroy(&lock) }

    func update(done: Int, total: Int, stage: String, interactive: Bool) {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        let percent = total > 0 ? min(100, done * 100 / total) : 100
        if stage != lastStage {
            if interactive && !lastStage.isEmpty { fputs("\n", stderr) }
            if !interactive { fputs("\(stage)…\n", stderr) }
            lastStage = stage
            lastPercent = -1
        }
        guard interactive, percent != lastPercent else { return }
        lastPercent = percent
        let width = 30
        let filled = percent * width / 100
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        fputs("\r\(stage) \(bar) \(percent)% (\(done)/\(total))", stderr)
        if done >= total { fputs("\n", stderr); lastStage = "" }
    }
}
