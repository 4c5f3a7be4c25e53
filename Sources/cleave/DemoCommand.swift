import ArgumentParser

/// `cleave demo`: Cleave's main job on built-in data, for a first run on a fresh machine.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the Locator on a generated TEM tile set (no data needed): Cleave's main job in one command.",
        discussion: """
        Writes a seeded synthetic mapping tile set (16-bit tiles with noisy film, dark particles, \
        black grid bars and a partly black tile, plus ground-truth masks) to OUT/sample, then \
        finds the particles with `cleave locate --exclude-dark` into OUT/locate: heatmap overlays \
        per tile and for the mosaic, cluster and picked-cluster TIFFs, patches.csv, a ranked \
        target list (targets.csv / targets.json) and summary.json.

        It is exactly:
          cleave sample --out OUT/sample --seed SEED
          cleave locate OUT/sample --out OUT/locate --exclude-dark --seed SEED
        Open OUT/locate/mosaic_overlay.png first.
        """)

    @Option(name: .long, help: "Output folder (created if needed).")
    var out: String = "cleave-demo"

    @Option(name: .long, help: "Random seed for the synthetic tile set and the clustering.")
    var seed: UInt64 = 1

    func run() throws {
        let sample = try SampleCommand.parse(["--out", out + "/sample", "--seed", String(seed)])
        try sample.run()
        let locate = try LocateCommand.parse([out + "/sample", "--out", out + "/locate", "--exclude-dark", "--seed", String(seed)])
        try locate.run()
        print("demo: open \(out)/locate/mosaic_overlay.png (and targets.csv for the stage positions)")
    }
}
