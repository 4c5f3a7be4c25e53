import CleaveCore
import CleaveFormats
import CleavePipelines
import Foundation

/// The demo project `cleave serve --demo` creates: one tile of CleavePipelines'
/// ``SyntheticTileSet`` (the same generator as `cleave sample`) — TEM-like film with flakes, rods
/// and faint blobs plus a grid bar — and two classes, so a new user can cluster, paint, train and
/// predict at once without any data of their own.
public enum DemoProject {
    public static let name = "Demo"

    /// The generator settings of the demo tile (1024², 5 nm pixels, seeded).
    public static let options = SyntheticTileSet.Options(rows: 1, columns: 1, tileSize: 1024, overlap: 0, seed: 42,
                                                         kind: .gridbars, particlesPerTile: 30)

    /// Creates the demo project with its sample image and classes unless a project named "Demo" exists.
    public static func ensure(in workbench: Workbench) async throws {
        if try await workbench.projects().contains(where: { $0.name == name }) { return }
        let project = try await workbench.createProject(name: name)
        let tile = try SyntheticTileSet.generate(options).tiles[0]
        let bytes = try ImageFile.encode(tile.image, as: .tiff)
        _ = try await workbench.importImage(bytes: bytes, projectID: project.id, name: "demo-\(tile.name).tif")
        for (className, colour) in [("particle", "#e63c28"), ("film", "#56b4e9")] {
            _ = try await workbench.createClass(projectID: project.id, userID: "", input: ClassInput(name: className, colour: colour))
        }
    }
}
