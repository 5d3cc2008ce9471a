import ImageIO
/// Colormaps, heat maps, overlays and panels.
public enum RenderingPlaceholder {}
