import ArgumentParser
import CleavePipelines

/// The registration options `cleave register` and `cleave transfer` share: one declaration, so the
/// two commands cannot drift apart in names, defaults or checks.
struct RegistrationFlags: ParsableArguments {
    @Option(help: ArgumentHelp("Transform model: rigid, similarity or affine.", valueName: "model"))
    var model: String = "similarity"

    @Option(help: ArgumentHelp("Mirror the moving image (the map): auto (try both), yes, no.", valueName: "mode"))
    var mirror: String = "auto"

    @Option(help: ArgumentHelp("Plane of a fixed stack to register to (0-based).", valueName: "index"))
    var plane: Int = 0

    @Option(help: ArgumentHelp("CSV of point pairs moving_x,moving_y,fixed_x,fixed_y that replace the automatic search.", valueName: "file"))
    var landmarks: String?

    @Flag(name: .customLong("no-refine"), help: "Keep the search's or the landmarks' transform as it is (no η² refinement).")
    var noRefine = false

    @Option(name: .customLong("min-z"), help: ArgumentHelp("Smallest accepted z-score of the best η² against random placements.", valueName: "z"))
    var minimumZ: Double = RegistrationOptions().minimumZScore

    @Option(name: .customLong("min-overlap"), help: ArgumentHelp("Smallest accepted share (0–1) of the moving image's pixels that land inside the fixed image.", valueName: "fraction"))
    var minimumOverlap: Double = RegistrationOptions().minimumOverlap

    func validate() throws {
        guard RegistrationModel(rawValue: model) != nil else {
            throw ValidationError("--model must be rigid, similarity or affine, got '\(model)'.")
        }
        guard MirrorSearch(rawValue: mirror) != nil else {
            throw ValidationError("--mirror must be auto, yes or no, got '\(mirror)'.")
        }
        guard plane >= 0 else { throw ValidationError("--plane must be 0 or more, got \(plane).") }
        guard minimumZ.isFinite else { throw ValidationError("--min-z must be a number, got \(minimumZ).") }
        guard minimumOverlap > 0 && minimumOverlap <= 1 else {
            throw ValidationError("--min-overlap must be in (0, 1], got \(minimumOverlap).")
        }
    }

    /// The pipeline's options (validated above, so the raw values parse).
    func options(seed: UInt64) -> RegistrationOptions {
        var options = RegistrationOptions()
        options.model = RegistrationModel(rawValue: model)!
        options.mirror = MirrorSearch(rawValue: mirror)!
        options.refine = !noRefine
        options.minimumZScore = minimumZ
        options.minimumOverlap = minimumOverlap
        options.seed = seed
        return options
    }
}
