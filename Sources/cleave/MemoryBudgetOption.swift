import ArgumentParser
import CleaveCore
import CleaveFormats
import CleavePipelines

/// `--memory-budget SIZE`, shared by the commands that read images.
struct MemoryBudgetOption: ParsableArguments {
    @Option(name: .customLong("memory-budget"),
            help: ArgumentHelp("Most memory the command may use, e.g. 8G or 512M (default: half the physical memory, or $CLEAVE_MEMORY_BUDGET).",
                               discussion: "Before reading pixels, the command estimates its peak memory from the image sizes in the file headers and refuses work that would not fit, so that a small compressed file that decodes to gigapixels cannot exhaust the machine. Raise it when the machine has the memory.",
                               valueName: "SIZE"))
    var memoryBudget: String?

    func validate() throws {
        if let memoryBudget, MemoryBudget(parsing: memoryBudget) == nil {
            throw ValidationError("--memory-budget must be a size such as 8G, 512M or 2000000000 (bytes), got '\(memoryBudget)'.")
        }
    }

    /// Makes the given budget the one every check uses (``MemoryBudget/current``).
    func apply() {
        if let memoryBudget, let budget = MemoryBudget(parsing: memoryBudget) { MemoryBudget.current = budget }
    }
}

/// The sizes the headers of `paths` declare (nothing decoded).
func declaredSizes(_ paths: [String]) throws -> [MemoryEstimate.Size] {
    try paths.map { MemoryEstimate.Size(try ImageFile.info($0)) }
}

extension MemoryBudgetError {
    /// The one line the command line prints: the error plus the option that raises the budget.
    var commandLineMessage: String {
        let suggestion = (estimatedBytes + (1 << 30) - 1) >> 30
        return "\(description); raise it with --memory-budget SIZE (e.g. --memory-budget \(suggestion)G) if the machine has that much memory"
    }
}
