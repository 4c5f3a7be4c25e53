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
            DemoCommand.self, Version.self, InfoCommand.self, ConvertCommand.self, BenchReadCommand.self, ScoreCommand.self, FeaturesCommand.self, ObjectsCommand.self, TrainCommand.self, PredictCommand.self, SampleCommand.self, LocateCommand.self, ServeCommand.self, ExperimentCommand.self, ExportCommand.self, RegisterCommand.self, TransferCommand.self,
        ]
    )
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print Cleave's version.")
    func run() throws { print("cleave \(cleaveVersion)") }
}
