/// The two checkpoint layouts the importer reads.
public enum CheckpointLayout: String, Sendable {
  /// timm's `VisionTransformer.state_dict()` (`patch_embed.proj`, `blocks.{i}.attn.qkv`, …);
  /// also what this toolkit saves.
  case timm
  /// Hugging Face's `ViTModel` / `ViTForImageClassification` (`[vit.]embeddings.*`,
  /// `encoder.layer.{i}.attention.attention.{query,key,value}`, …), `DeiT*`, `Dinov2Model`,
  /// `DINOv3ViTModel` (`embeddings.patch_embeddings`, `[model.]layer.{i}.attention.q_proj`, …),
  /// and the vision towers of `CLIPModel`, `CLIPVisionModel`, `SiglipModel`,
  /// `SiglipVisionModel` (`[vision_model.]embeddings.patch_embedding`, …).
  case huggingFace
  /// open_clip's own checkpoints (`open_clip_model.safetensors`, `open_clip_config.json`):
  /// `visual.conv1`, `visual.transformer.resblocks.{i}.attn.in_proj_weight`, …
  case openCLIP = "open_clip"
}
