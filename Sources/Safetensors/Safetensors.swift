/// Reads and writes safetensors files.
public enum SafetensorsPlaceholder {}
