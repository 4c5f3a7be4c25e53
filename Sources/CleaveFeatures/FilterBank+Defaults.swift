import CleaveCore
import CleaveFilters

extension FilterBank {
    /// The default bank (2D).
    ///
    /// PROVISIONAL — see the documentation in this file once evaluated.
    public static let `default`: FilterBank = try! FilterBank(entries: [
        Entry(.gaussian, scales: [0] + defaultScales),
        Entry(.gradientMagnitude, scales: defaultScales),
        Entry(.laplacian, scales: defaultScales),
        Entry(.hessianEigenvalues, scales: defaultScales),
        Entry(.structureTensorEigenvalues, scales: defaultScales),
        Entry(.localStandardDeviation, scales: [1.0, 1.6, 3.5]),
    ])

    /// ilastik's full default selection: every Gaussian feature at every default scale.
    public static let ilastik: FilterBank = try! FilterBank(entries: [
        Entry(.gaussian, scales: [0.3] + defaultScales),
        Entry(.laplacian, scales: defaultScales),
        Entry(.gradientMagnitude, scales: defaultScales),
        Entry(.differenceOfGaussians, scales: defaultScales),
        Entry(.structureTensorEigenvalues, scales: defaultScales),
        Entry(.hessianEigenvalues, scales: defaultScales),
    ])

    /// A small, fast bank: intensity, edges and Hessian at three scales.
    public static let fast: FilterBank = try! FilterBank(entries: [
        Entry(.gaussian, scales: [0, 1.0, 3.5]),
        Entry(.gradientMagnitude, scales: [1.0, 3.5]),
        Entry(.hessianEigenvalues, scales: [1.0, 3.5]),
    ])

    /// Names accepted by ``named(_:threeD:)``.
    public static let namedBanks = ["default", "ilastik", "fast"]

    /// A predefined bank by name, optionally switched to 3D filters.
    /// - Throws: ``FilterBankError/unknownBank(_:)``.
    public static func named(_ name: String, threeD: Bool = false) throws -> FilterBank {
        let bank: FilterBank
        switch name.lowercased() {
        case "default": bank = .default
        case "ilastik": bank = .ilastik
        case "fast": bank = .fast
        default: throw FilterBankError.unknownBank(name)
        }
        return threeD ? try bank.with(threeD: true) : bank
    }

    /// The same bank with 2D or 3D filters.
    public func with(threeD: Bool) throws -> FilterBank {
        try FilterBank(entries: entries, threeD: threeD, boundary: boundary)
    }

    /// A bank of the given features, every one at the same scales (scale 0 is kept only for gaussian).
    /// - Throws: ``FilterBankError`` for unknown feature names or invalid scales.
    public init(features names: [String], scales: [Double] = FilterBank.defaultScales,
                threeD: Bool = false, boundary: Boundary = .reflect) throws {
        let entries = try names.map { name -> Entry in
            let feature = try FilterFeature(name: name)
            let kept = feature == .gaussian ? scales : scales.filter { $0 > 0 }
            return Entry(feature, scales: kept)
        }
        try self.init(entries: entries, threeD: threeD, boundary: boundary)
    }
}
