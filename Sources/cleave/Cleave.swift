import ArgumentParser
import CleavePipelines
import CleaveCore

@main
struct Cleave: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleave",
        abstract: "Segment, classify and measure electron- and X-ray-microscopy images.",
        discussion: """
        Cleave finds particles in TEM tile sets (locate), classifies pixels from a few scribbles \
        (train / predict), measures grains and crystals (objects) and scores results against \
        hand labels (score). Run `cleave help SUBCOMMAND` for each command's options.
        """,
        version: cleaveVersion,
        subcommands: [
            DemoCommand.self, Version.self, InfoCommand.self, ConvertCommand.self, BenchReadCommand.self, ScoreCommand.self, FeaturesCommand.self, ObjectsCommand.self, TrainCommand.self, PredictCommand.self, SubmitCommand.self, SampleCommand.self, LocateCommand.self, ServeCommand.self, UserCommand.self, BackupCommand.self, RestoreCommand.self, ImportProjectCommand.self, ExperimentCommand.self, ExportCommand.self, RegisterCommand.self, TransferCommand.self, LithologyCommand.self,
        ]
    )

    /// Parses and runs the command line. A negative number after an option (`--clusters -3`) looks
    /// like another option to the parser, which then reports "Missing value for '--clusters'"; such
    /// a command line is parsed again with the number attached (`--clusters=-3`), so that the
    /// option's own check says what is wrong with the value. Old spellings of renamed options
    /// are rewritten first, with a note (``DeprecatedSpellings``).
    static func main() {
        let (arguments, notes) = DeprecatedSpellings.rewrite(Array(CommandLine.arguments.dropFirst()))
        for note in notes { ProgressBar.note(note) }
        var command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            let attached = attachingNegativeValues(arguments)
            guard attached != arguments, message(for: error).hasPrefix("Missing value for") else { exit(withError: error) }
            do { command = try parseAsRoot(attached) } catch { exit(withError: error) }
        }
        // Module errors name fields; the command line says its flags (``CommandLineNames``).
        do { try command.run() } catch let error as CleaveError {
            exit(withError: error)
        } catch let error as MemoryBudgetError {
            exit(withError: CleaveError(error.commandLineMessage))
        } catch let error as BlockRunError {
            exit(withError: CleaveError(PredictCommand.commandLineMessage(error)))
        } catch let error as any CleaveErrorProtocol {
            exit(withError: CleaveError(CommandLineNames.message(for: error, command: CommandLineNames.commandName(command))))
        } catch { exit(withError: error) }
    }

    /// `--name -3` → `--name=-3` for every long option followed by a negative number.
    static func attachingNegativeValues(_ arguments: [String]) -> [String] {
        func isNegativeNumber(_ text: String) -> Bool {
            text.count > 1 && text.hasPrefix("-") && Double(text) != nil
        }
        var out: [String] = []
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            if argument.hasPrefix("--"), argument.count > 2, !argument.contains("="), i + 1 < arguments.count,
               isNegativeNumber(arguments[i + 1]) {
                out.append(argument + "=" + arguments[i + 1])
                i += 2
            } else {
                out.append(argument)
                i += 1
            }
        }
        return out
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print Cleave's version.")
    func run() throws { print("cleave \(cleaveVersion)") }
}
