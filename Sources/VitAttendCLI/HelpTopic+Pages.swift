// The text of each `vit-attend help TOPIC` page. The README explains the same things at more
// length (with figures and measurements); these pages are what a user at a terminal needs.

extension HelpTopic {
  /// The page, ending with a newline.
  var page: String {
    switch self {
    case .model: Self.modelPage
    case .maps: Self.mapsPage
    case .resizing: Self.resizingPage
    case .dump: Self.dumpPage
    case .page: Self.pagePage
    case .highResolution: Self.highResolutionPage
    case .gradients: Self.gradientsPage
    case .faithfulness: Self.faithfulnessPage
    case .folders: Self.foldersPage
    }
  }

  static let modelPage = """
    THE MODEL

    Without --weights, vit-attend runs its built-in model, which needs no weights and says so
    in every caption. It is one self-attention layer whose queries and keys are fixed
    descriptors of each 16-pixel patch instead of learned projections: orientation histograms
    and colour statistics over a Gaussian window, plus 2D sin-cos positions, in four heads:
    appearance (the default), colour, texture and position. It is untrained: it shows which
    patches look alike, not what a network learned.

    --weights PATH loads a timm, Hugging Face or open_clip ViT in safetensors format: the
    file, or the folder it came in (config.json and preprocessor_config.json beside it are
    read for heads, layer norm epsilon and normalisation). Families: ViT, DeiT, BEiT,
    EVA-02, CLIP, SigLIP, DINOv2, DINOv3, the RoPE ViTs, Perception Encoder, AIMv2 and
    NaFlex SigLIP-2 (the README's table lists the layouts). Position embeddings are
    resampled to the image's grid as the checkpoint's library does (timm: antialiased
    bicubic; Hugging Face: bicubic, a = -0.75), so any image size runs; RoPE models have no
    table, and any multiple of the patch size runs as it is.

    Two more families load from --weights and draw figures of their own (--html and --dump
    too); an option a family does not read is refused with an error naming it:
      Swin     timm swin_* / swinv2_*, Hugging Face SwinModel, Swinv2Model and their
               classifiers: attention inside windows, per block ([windows, heads, N, N]).
               Maps: the default figure (the query's effective field through windows,
               shifts and merging, beside a CNN's field, above its window at every block),
               query, heads, distance, rollout, gradcam (--class). --layer counts blocks
               through the stages.
      DETR     a Hugging Face DetrForObjectDetection folder: the default figure is DETR's
               Figure 6, each detection above --score (default 0.7) with its object
               query's cross-attention at the last decoder layer (or --layer); --map
               encoder is Figure 3, the encoder's self-attention at --query (default: the
               centre). Both average the heads.

    Nothing that changes the result is guessed: an unknown architecture name or setting is
    refused with an error naming it. When a plain ViT comes without a config, what is
    inferred is said on stderr and in every caption, and can be given instead:
      heads            width / 64                           --head-count N
      normalisation    mean 0.5,0.5,0.5, std 0.5,0.5,0.5    --mean R,G,B --std R,G,B
      input size       the square grid of the position table (any size runs)

    --threads N sets the compute threads (default: the processors this process may run on, or
    VISION_ATTENTION_THREADS; never more than those processors).

    """

  static let mapsPage = """
    MAPS (--map)

    With no --map, the figure shows the input with the query point, the model's readout
    attention (the class token's, else an attention-pooling head's query; the query patch's
    with --query or for a model with neither), SAGAN attention over CNN feature maps at the
    same point, and the receptive field of a CNN (--cnn) there: global and content-dependent
    against local and fixed. With --cnn-weights it adds a trained CNN's Grad-CAM.

      query        the attention of the patch under --query, at --layer, one --head or --fuse
      cls          the class token's attention at --layer (for a model read out by an
                   attention-pooling head, that head's query)
      rollout      attention rollout (Abnar & Zuidema 2020) through every layer, heads fused;
                   --discard-ratio drops the weakest weights per layer
      heads        every layer x head, each map on its own colour range
      mask         DINO's keep-mass masks: the fewest patches holding --keep of the attention
      distance     mean attention distance of every head (ViT paper, Figure 7) beside the
                   --cnn receptive field per layer
      posembed     cosine similarity of the position embeddings (ViT paper, Figure 10)
      sagan        SAGAN attention over CNN feature maps at four points, the first at --query
      rf           the --cnn theoretical and effective receptive field at the query
      gradrollout  gradient-weighted rollout for --class (Chefer et al. 2021)
      gradcam      Grad-CAM for --class on the last block's norm1 (as pytorch-grad-cam)
      attngrad     attention x gradient at --layer for --class
      pca          the patch tokens' first three principal components as RGB =
                   sigmoid(2 x whitened projection), as scikit-learn's PCA(n_components=3,
                   whiten=True) fits them (each component signed so its largest entry is
                   positive): the final tokens after the final norm, or block --layer's
                   output; prefix tokens dropped. --foreground auto|T blacks out the patches
                   whose first component is below Otsu's threshold or T and refits on the
                   rest (DINOv2's two-step recipe). A folder run fits one PCA over every
                   image (pca.safetensors: mean [D], components [3,D], explained_variance
                   [3]) so colours agree; --pca-from FILE reuses a fit (there, and in a
                   folder run, --foreground only blacks out). Reads no attention.
      norms        the L2 norm of every token after each block (before any final norm):
                   the patches' norms per layer with tokens above --norm-factor (default 4)
                   x the layer's median outlined, and a plot per layer of every prefix
                   token (class token, registers) and the patches' median and largest;
                   the caption counts the high-norm tokens per layer. Reads no attention.
      encoder      a DETR checkpoint's encoder self-attention at --query, heads averaged
                   (DETR paper, Figure 3); refused for ViT and Swin checkpoints

    A DETR checkpoint (a DetrForObjectDetection folder) draws, without --map, its
    detections above --score (default 0.7) with their labels and, for each, the last
    decoder layer's cross-attention of its object query, heads averaged, its box in the
    same colour (DETR paper, Figure 6); --layer picks another decoder layer.

    --layer and --head count from 0 (default: the last layer, the model's own head choice).
    The gradient maps are explained in vit-attend help gradients. An option a map does not
    read (say --keep without --map mask) is named in a warning on stderr.

    """

  static let resizingPage = """
    RESIZING AND THE QUERY POINT

    --resize fit (the default) keeps the aspect ratio and fits the longer side to the
    model's size (a checkpoint's input size from its config; 480 pixels for the built-in
    model, which enlarges a small image at most 2x), then centre-crops to a multiple of the
    patch size. A NaFlex SigLIP-2 checkpoint (Hugging Face Siglip2Model or Siglip2VisionModel)
    is instead sized as its Siglip2ImageProcessor sizes it: the largest size with at most
    max_num_patches patches (preprocessor_config.json; 256 by default), aspect ratio kept,
    each side a whole number of patches, resized as torchvision resizes uint8 images
    (bilinear, antialiased); no crop. --resize none uses the image at its own size, cropped
    down to a multiple of the patch size. Under either policy an image still smaller than
    one patch on a side is enlarged by the smallest whole factor that gives each side a
    patch, nearest neighbour (a 4x4 icon 4x to 16x16), and the caption and the PNG's
    `enlarged` text chunk say so. JPEGs are first turned upright by their EXIF orientation
    (--no-exif keeps them as stored); --accept-partial draws a damaged JPEG as libjpeg fills
    it in.

    --query X,Y is always given in the input file's own pixels, counted from its top-left
    corner, or as fractions: a coordinate written with a decimal point (0.4) is a fraction of
    the width or height and must lie in [0, 1], one without (170, -5) counts pixels; a
    fraction f picks pixel floor(f * size). So --query 0.5,0.5 is the centre and --query
    0.25,40 a quarter across, 40 pixels down; without --query the query is the image's
    centre. A point outside the image is refused with the image's size; a query in the strip
    that cropping to a multiple of the patch size removes is refused, with the range the
    model sees.

    Figures show a small input enlarged pixel for pixel, with the markers drawn after. Every
    dump's metadata maps tokens back to the file's pixels (vit-attend help dump).

    """

  static let dumpPage = """
    DUMP (--dump FILE.safetensors, --dump-dir DIR)

    The numbers behind a figure, float32 unless noted; T tokens, H and W the model input's
    height and width, R rows:
      input             [3,H,W]        the model's input (normalised as the checkpoint
                                       says; the built-in model's is RGB / 255)
      logits            [classes]      for a model with a classifier
      embedding         [D]            else: the pooled tokens, for a model without one
      attn.{l}          [heads,T,T]    every layer's attention, with --dump-attention full:
                                       the default while L·H·T² stays under
                                       --full-attention-limit (256 Mi values = 1 GiB)
      attn_rows.{l}     [heads,R,T]    with --dump-attention rows, the default above it:
      attn_rows.tokens  [R], int64     the rows' tokens: 0 for the class token, then the
                                       query patch's token
      attn.pool         [heads,1,N]    an attention-pooling head's query (SigLIP)
    and per map:
      --map rollout      rollout [T,T] (rollout_row [T] above the limit: the class token's
                         row, else the query's)
      --map distance     distance [layers,heads]
      --map rf           rf.size, rf.stride, rf.padding [layers] and erf [H,W]
      --map sagan        sagan.attn [queries,cells] (8-pixel cells of the feature map; above
                         --full-attention-limit the image is scaled down by the smallest
                         whole k leaving at most 2048 cells, of 8·k pixels)
      --map gradrollout  gradrollout [T,T]
      --map gradcam      gradcam [grid rows, grid cols] (before normalisation and upsampling)
      --map attngrad     attngrad [T,T]
      --map pca          features [T,D] (the tokens the PCA used, prefix included) and pca
                         [3, grid rows, grid cols] (whitened projections, before the
                         sigmoid; 0 for the background); with --foreground also foreground
                         [grid rows, grid cols] (1 for a coloured patch) and
                         foreground_threshold [1]
      --map norms        norms [layers,T] (each block's output, before any final norm)
      --cnn-weights      cnn_gradcam [rows, cols] (the default figure and --map gradcam)
    --dump-attention none leaves the attention out; --map pca and --map norms, which read no
    attention, dump rows unless --dump-attention full asks for more.

    A DETR checkpoint dumps input [3,H,W] (shortest side 800, longest at most 1333 unless
    --resize none), detr.logits [Q,C+1], detr.boxes [Q,4] (cx, cy, w, h as fractions of
    the input), detr.encoder.{l} [heads,S,S], detr.decoder_self.{l} [heads,Q,Q] and
    detr.decoder_cross.{l} [heads,Q,S], S = feature_height x feature_width (metadata),
    row-major; a cell covers 32x32 input pixels.

    The metadata holds the figure's parameters, attention-dump (full, rows or none) with
    attention-values and full-attention-limit, and the geometry: patch_size, grid_width,
    grid_height, prefix_tokens, class_token, scale, crop_x, crop_y, the original, resized
    and input sizes, and mean and std of the normalisation. Token prefix_tokens +
    r·grid_width + c covers model-input pixels [c·p, (c+1)·p) x [r·p, (r+1)·p), and
    model-input pixel (x, y) is file pixel ((x + crop_x) / scale, (y + crop_y) / scale).

    --dump writes one image's file; --dump-dir DIR one file per image, mirroring the input
    tree. Dumps are streamed to disk through a temporary file and a rename.

    """

  static let pagePage = """
    THE INTERACTIVE PAGE (--html PAGE.html, --out-dir DIR --format html)

    --html PAGE.html (one image) or --out-dir DIR --format html (one page per image) writes
    an interactive page that needs no network: point at a patch to see where it looks, in
    every layer and head, beside a CNN's view of the same point (SAGAN attention and the
    --cnn receptive field). The other options set the page's first view.

    The page keeps its view in the URL fragment, so a view can be shared, e.g.
      #map=query&layer=3&head=2&query=7,5&fuse=mean&cmap=inferno&alpha=0.6
    (layers and heads from 0, query = patch column,row). A view the model cannot show is
    named in a note at the top of the page, beside the view shown instead.

    Size: every attention weight is one byte in base64, so a page takes about
      4/3 · (L·H·T·(T+4) + 3·R·(T+4) + N·(C+4)) bytes,
    plus the input as PNG and 35 kB of script, style and colour tables, for L layers, H
    heads, T tokens, N patches, C 8-pixel cells of the image, and R = 1 rollout row with a
    class token, else T: at 224x224 about 2.3 MB for ViT-Ti/16, 4.2 MB for ViT-S/16, 8.0 MB
    for ViT-B/16. Above --full-attention-limit the page holds each layer's queries and keys
    at 8 bits instead (about 4/3 · L·T·(2D + 8H) bytes, D = the model's width) and
    recomputes the hovered patch's rows in the browser (vit-attend help high-resolution).

    """

  static let highResolutionPage = """
    HIGH RESOLUTION (--full-attention-limit)

    Full attention grows with T²: ViT-S/16 on a 1344-pixel image has 7,057 tokens, and its
    12 layers x 6 heads hold 3.6 G weights (14 GB). Above --full-attention-limit (L·H·T²
    values, default 256 Mi = 1 GiB of floats; the default image sizes stay below it):
    - attention runs tiled with an online softmax (FlashAttention's, on the CPU), so no
      [T,T] matrix is ever held;
    - only the rows a map needs are kept: the class token's and the query's per layer;
      rollout and distance recompute each layer's rows from its saved queries and keys;
      --discard-ratio, which needs the full matrices, is refused;
    - --dump writes attn_rows.{l} and attn_rows.tokens instead of attn.{l}
      (--dump-attention full|rows|none overrides; vit-attend help dump);
    - a page holds each layer's queries and keys at 8 bits and recomputes the hovered
      patch's rows in the browser (weights within about 10% of their row's maximum), keeps
      rollout for one token, and computes SAGAN on the image scaled down to at most 2048
      cells; the page says so.

    """

  static let gradientsPage = """
    CLASS-SPECIFIC MAPS (--class, --target-embedding, --cnn-weights)

    --map gradrollout, gradcam and attngrad explain --class K (an index into the
    classifier's outputs; default: the top-1 class) through the model's gradients: one
    forward and one backward pass. The caption names the class and its probability. The
    built-in model is untrained and has no classifier, so these maps need --weights.

    A model without a classifier (a DINO or CLIP image tower) explains the cosine similarity
    between its pooled embedding and --target-embedding FILE.safetensors: one tensor, [D] or
    [1, D], e.g. a text embedding. A --dump file works too: its embedding is the target, so
      vit-attend dog.png -w dino --dump dog.safetensors
      vit-attend scene.png -w dino --map gradrollout --target-embedding dog.safetensors
    shows where the scene looks like the dog.

    --cnn-weights DIR (a RUN/checkpoint folder of patch-classify --model cnn or cnn-sagan)
    adds that CNN's Grad-CAM to the default figure and --map gradcam, and cnn_gradcam to
    --dump, for --class K (an index into the CNN's outputs) or the CNN's own top-1.

    """

  static let faithfulnessPage = """
    FAITHFULNESS (--faithfulness REPORT.json, --maps)

    --faithfulness REPORT.json scores maps instead of drawing them (Petsiuk et al. 2018):
    for each image and each map of --maps (default cls,rollout,gradrollout,gradcam,random;
    attngrad on request; what the model lacks is skipped with a warning), the probability of
    the target class (--class, else the top-1) as patches are removed in the map's order
    (deletion: set to 0 in the normalised input) and as they are inserted into a blurred
    copy (insertion: Gaussian, 11 taps, sigma = 5 px), one patch row's worth per step.
    random is a seeded random order, the baseline every map should beat.

    The report holds maps -> {name: {deletion_auc, insertion_auc}} averaged over the images
    (lower deletion and higher insertion are more faithful), model, skipped, and images:
    each image's input, class, class_name, probability and per map its curves (deletion,
    insertion) and AUCs. REPORT.png beside it draws both curves per map; the table goes to
    stdout. A model without a classifier follows the cosine similarity to
    --target-embedding instead (each image then has similarity in place of class and
    probability). --faithfulness needs --weights; --batch-size sets the perturbed inputs per
    model pass (default 16).

    """

  static let foldersPage = """
    FOLDER RUNS (--out-dir, --dump-dir, --keep-going, --skip-existing, --shard, --merge)

    Folders are walked recursively (hidden files and folders skipped, symbolic links to
    folders followed once) and the outputs mirror the tree: out/<relative dir>/<stem>.png
    (.html with --format html). Every folder run writes out/index.jsonl, one JSON object per
    image in the run's order (sorted by relative path): position, input, status (ok, error
    or skipped), error, output/page/dump, top_class, top_index, top_probability, map,
    entropy, peak_x, peak_y, peak_patch, with --map distance mean_attention_distance, and
    with --map norms high_norm_tokens: one list per layer (from 0) of the indices of the
    tokens above --norm-factor x the layer's median norm, prefix tokens first, as
    [[0, 37], [], ...], and for a DETR checkpoint detections: label, score and box
    [x_min, y_min, x_max, y_max] in input-file pixels of each object above --score.
    --map pca fits one PCA over every image first and writes it to
    pca.safetensors in the folder (--pca-from FILE draws with a saved one instead).
    --map distance, cls or rollout with --out-dir also write summary.json and summary.png:
    the mean attention distance per layer and head over the data set, or the average map.

    --keep-going records an image that fails and goes on. Exit status: 0 when every image
    succeeded, 2 when some failed (with --keep-going), 1 for an error that stops the run, 64
    for a usage error. --skip-existing skips images whose outputs all exist (status skipped),
    so a killed run resumes; outputs are written through a temporary file and a rename.
    --batch-size N sets the images per model pass (default: from the model's size, up to 16).

    --shard K/N (1 <= K <= N) takes image i (from 0, in sorted order) when i mod N + 1 = K and
    writes index.K-of-N.jsonl (and summary.K-of-N.json), so N shards share one folder;
    vit-attend --merge DIR then joins them into index.jsonl, summary.json and summary.png,
    and names any shard whose files are missing. With --map pca each shard writes
    pca-statistics.K-of-N.json (count, sum and outer products, in double) and draws with its
    own images' fit; --merge adds them up into pca.safetensors, and the shards drawn again
    with --pca-from it share its colours. The README has Slurm and Kubernetes recipes.

    """
}
