import Foundation
import CleaveFeatures

/// Encodes and decodes through JSON (Foundation is fine in tests).
enum JSONEncoderShim {
    static func roundTrip(_ bank: FilterBank) throws -> FilterBank {
        let data = try JSONEncoder().encode(bank)
        return try JSONDecoder().decode(FilterBank.self, from: data)
    }
}
