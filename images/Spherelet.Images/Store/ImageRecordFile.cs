namespace Spherelet.Images.Store;

/// <summary>The file form of an image record: a version, then the record.</summary>
internal sealed record ImageRecordFile(int Version, ImageRecord Image);
