/// TIFF tag numbers Cleave reads or writes, with names for messages.
enum TIFFTag {
    static let newSubfileType = 254
    static let imageWidth = 256
    static let imageLength = 257
    static let bitsPerSample = 258
    static let compression = 259
    static let photometric = 262
    static let fillOrder = 266
    static let imageDescription = 270
    static let make = 271
    static let model = 272
    static let stripOffsets = 273
    static let samplesPerPixel = 277
    static let rowsPerStrip = 278
    static let stripByteCounts = 279
    static let xResolution = 282
    static let yResolution = 283
    static let planarConfiguration = 284
    static let resolutionUnit = 296
    static let software = 305
    static let dateTime = 306
    static let predictor = 317
    static let colorMap = 320
    static let tileWidth = 322
    static let tileLength = 323
    static let tileOffsets = 324
    static let tileByteCounts = 325
    static let subIFDs = 330
    static let extraSamples = 338
    static let sampleFormat = 339
    static let zeissSEM = 34118
    static let feiSFEG = 34680
    static let feiHelios = 34682

    /// A readable name for messages ("ImageWidth"), or "private" for unknown numbers.
    static func name(_ tag: Int) -> String {
        switch tag {
        case 254: return "NewSubfileType"
        case 256: return "ImageWidth"
        case 257: return "ImageLength"
        case 258: return "BitsPerSample"
        case 259: return "Compression"
        case 262: return "PhotometricInterpretation"
        case 266: return "FillOrder"
        case 270: return "ImageDescription"
        case 273: return "StripOffsets"
        case 277: return "SamplesPerPixel"
        case 278: return "RowsPerStrip"
        case 279: return "StripByteCounts"
        case 282: return "XResolution"
        case 283: return "YResolution"
        case 284: return "PlanarConfiguration"
        case 296: return "ResolutionUnit"
        case 317: return "Predictor"
        case 320: return "ColorMap"
        case 322: return "TileWidth"
        case 323: return "TileLength"
        case 324: return "TileOffsets"
        case 325: return "TileByteCounts"
        case 338: return "ExtraSamples"
        case 339: return "SampleFormat"
        case 34118: return "ZEISS SEM"
        case 34682: return "FEI Helios"
        default: return "private"
        }
    }
}

/// TIFF field types and their sizes in bytes.
enum TIFFFieldType {
    static func size(_ type: Int) -> Int? {
        switch type {
        case 1, 2, 6, 7: return 1
        case 3, 8: return 2
        case 4, 9, 11, 13: return 4
        case 5, 10, 12, 16, 17, 18: return 8
        default: return nil
        }
    }
}
