/// Attention and receptive-field inspection.
public enum InspectionPlaceholder {}
