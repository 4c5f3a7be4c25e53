import CleaveFormats
import Foundation

/// The class fractions of every image of a project in one table: what a batch prediction ("Predict
/// all images") ends with — the modal composition of a whole sample series, for a spreadsheet.
extension Workbench {
    /// True when the prediction covers every pixel (and every plane) of its image.
    static func coversWholeImage(_ prediction: PredictionDTO, _ image: ImageDTO) -> Bool {
        let r = prediction.region
        return r.x == 0 && r.y == 0 && r.width == image.width && r.height == image.height
            && (r.z ?? 0) == 0 && (r.depth ?? 1) == image.depth
    }

    /// An image's result, as the page opens it: its newest accepted whole-image prediction, else its
    /// newest whole-image one (nil when it has none; live previews of a part never count).
    func currentResult(of image: ImageDTO) async throws -> PredictionDTO? {
        let whole = try await predictions(imageID: image.id).filter { Workbench.coversWholeImage($0, image) }
        return whole.last { $0.state == "accepted" } ?? whole.last
    }

    /// One row per image and class of the image's current result (``currentResult(of:)``); images
    /// without a result get one row that says so. Fractions count what the image's region of
    /// interest lets count (as on the page).
    public func projectFractionsCSV(projectID: String) async throws -> String {
        var lines = ["image,image_id,prediction_id,model_version,state,class_value,class,pixels,percent,area,area_unit,note"]
        for image in try await images(projectID: projectID) {
            let name = CSVText.field(image.name)
            guard let result = try await currentResult(of: image) else {
                lines.append("\(name),\(image.id),,,,,,,,,,no whole-image result yet")
                continue
            }
            let note = result.roi == nil ? "" : "inside the region of interest"
            for fraction in result.fractions {
                let fields: [String] = [name, image.id, result.id, String(result.modelVersion), result.state, String(fraction.value),
                                        CSVText.field(fraction.name), String(fraction.pixels), String(fraction.percent),
                                        fraction.area.map { String($0) } ?? "", fraction.unit.map(CSVText.field) ?? "", note]
                lines.append(fields.joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
