import CleaveCore
import CleaveFormats
import CleavePipelines
import Foundation

/// The demo project `cleave serve --demo` creates: one tile of CleavePipelines'
/// ``SyntheticTileSet`` (the same generator as `cleave sample`) — TEM-like film with flakes, rods
/// and faint blobs plus a grid bar — three classes, a few example strokes of each (placed from the
/// generator's own truth masks) and a first result trained and predicted from them, so a new user
/// sees the whole loop at once and can go on painting, without any data of their own.
public enum DemoProject {
    /// The demo project's name ("Demo"); no demo is created while a project of that name exists.
    public static let name = "Demo"

    /// The generator settings of the demo tile (1024², 5 nm pixels, seeded).
    public static let options = SyntheticTileSet.Options(rows: 1, columns: 1, tileSize: 1024, overlap: 0, seed: 42,
                                                         kind: .gridbars, particlesPerTile: 30)

    /// The classes, in value order (1, 2, 3).
    public static let classes = [("particle", "#e69f00"), ("film", "#56b4e9"), ("grid bar", "#cc79a7")]

    /// The pseudonymous user and session the example strokes and the first result are recorded under.
    public static let user = "cleave-demo", session = "cleave-demo-session"

    /// Creates the demo project with its sample image, classes, example strokes and a first result
    /// unless a project named "Demo" exists. Waits for the first training and prediction (a few
    /// seconds, once per data directory).
    public static func ensure(in workbench: Workbench) async throws {
        if try await workbench.projects().contains(where: { $0.name == name }) { return }
        let project = try await workbench.createProject(name: name)
        let tile = try SyntheticTileSet.generate(options).tiles[0]
        let bytes = try ImageFile.encode(tile.image, as: .tiff)
        let image = try await workbench.importImage(bytes: bytes, projectID: project.id, name: "demo-\(tile.name).tif")
        for (className, colour) in classes {
            _ = try await workbench.createClass(projectID: project.id, userID: "", input: ClassInput(name: className, colour: colour))
        }
        for stroke in exampleStrokes(tile) {
            _ = try await workbench.addStroke(imageID: image.id, userID: user, input: stroke)
        }
        let trained = try await workbench.startTraining(imageID: image.id, userID: user, input: TrainInput(sessionId: session, seed: 1))
        guard await workbench.jobs.wait(trained.id)?.state == "done" else { return }
        let predicted = try await workbench.startPrediction(imageID: image.id, userID: user, input: PredictInput(sessionId: session))
        _ = await workbench.jobs.wait(predicted.id)
    }

    /// Three short strokes per class, each well inside its class in the generator's truth (particles:
    /// ≥ 5 px from their edge; film: ≥ 12 px from any particle or bar; bars: ≥ 6 px inside), spread
    /// over the tile. Deterministic: the tile is seeded and the candidates are taken in raster order.
    public static func exampleStrokes(_ tile: SyntheticTileSet.Tile) -> [StrokeInput] {
        let w = tile.image.shape.width, h = tile.image.shape.height
        let particle = tile.particleMask.pixels, bar = tile.barMask.pixels
        func all(_ x: Int, _ y: Int, reach: Int, _ test: (Int) -> Bool) -> Bool {
            guard x - reach >= 0, y - reach >= 0, x + reach < w, y + reach < h else { return false }
            for yy in (y - reach)...(y + reach) { for xx in (x - reach)...(x + reach) where !test(yy * w + xx) { return false } }
            return true
        }
        func candidates(step: Int, reach: Int, _ test: (Int) -> Bool) -> [(Int, Int)] {
            var found: [(Int, Int)] = []
            for y in stride(from: step / 2, to: h, by: step) { for x in stride(from: step / 2, to: w, by: step) where all(x, y, reach: reach, test) { found.append((x, y)) } }
            return found
        }
        func spread(_ points: [(Int, Int)], _ count: Int) -> [(Int, Int)] {
            guard points.count > count else { return points }
            return (0..<count).map { points[($0 * 2 + 1) * points.count / (2 * count)] }
        }
        let classes: [(value: Int, points: [(Int, Int)], half: Double, radius: Double)] = [
            (1, spread(candidates(step: 4, reach: 5) { particle[$0] > 0 && bar[$0] == 0 }, 3), 2, 2),
            (2, spread(candidates(step: 16, reach: 12) { particle[$0] == 0 && bar[$0] == 0 }, 3), 8, 3),
            (3, spread(candidates(step: 8, reach: 6) { bar[$0] > 0 && particle[$0] == 0 }, 3), 2, 3),
        ]
        return classes.flatMap { c in
            c.points.map { x, y in
                StrokeInput(sessionId: session, class: c.value, radius: c.radius,
                            points: [[Double(x) - c.half + 0.5, Double(y) + 0.5], [Double(x) + c.half + 0.5, Double(y) + 0.5]], plane: nil)
            }
        }
    }
}
