"""Messages of the corpus pipeline (errors, step names, removal reasons, skipped files), in English and Chinese."""

CORPUS: dict[str, dict[str, str]] = {
    # Errors
    "err.corpus_no_sources": {
        "en": "Choose at least one file or folder to build a corpus from.",
        "zh": "请至少选择一个文件或文件夹作为语料来源。",
    },
    "err.corpus_source_missing": {
        "en": "The source '{path}' does not exist.",
        "zh": "语料来源“{path}”不存在。",
    },
    "err.corpus_no_documents": {
        "en": "No readable documents were found in the chosen sources (supported: {suffixes}).",
        "zh": "所选来源中没有可读取的文档（支持的格式：{suffixes}）。",
    },
    "err.corpus_format_unsupported": {
        "en": "{path}: {format} files cannot be read here because the '{package}' library is not installed; "
              "convert the file to Markdown or plain text first.",
        "zh": "{path}：未安装“{package}”库，无法读取 {format} 文件；请先将其转换为 Markdown 或纯文本。",
    },
    "err.corpus_unknown_suffix": {
        "en": "{path}: unknown file type; supported types are {suffixes}.",
        "zh": "{path}：不支持的文件类型；支持的类型为 {suffixes}。",
    },
    "err.corpus_file_too_large": {
        "en": "{path} is {size_mb} MB, over the {limit_mb} MB limit per file; split it or raise the limit.",
        "zh": "{path} 大小为 {size_mb} MB，超过单个文件 {limit_mb} MB 的上限；请拆分文件或调高上限。",
    },
    "err.corpus_encoding": {
        "en": "{path} is not valid UTF-8 (first bad byte at offset {offset}); convert it to UTF-8 first.",
        "zh": "{path} 不是有效的 UTF-8 编码（第一个错误字节位于偏移 {offset}）；请先转换为 UTF-8。",
    },
    "err.corpus_empty_file": {
        "en": "{path} contains no text.",
        "zh": "{path} 中没有任何文本。",
    },
    "err.corpus_bad_json": {
        "en": "{where}: invalid JSON ({reason}).",
        "zh": "{where}：JSON 格式错误（{reason}）。",
    },
    "err.corpus_field_missing": {
        "en": "{where}: the record has no field '{field}'; choose the field that holds the text.",
        "zh": "{where}：该记录没有字段“{field}”；请选择存放文本的字段。",
    },
    "err.corpus_field_type": {
        "en": "{where}: field '{field}' holds {type}, not text.",
        "zh": "{where}：字段“{field}”的值是 {type}，不是文本。",
    },
    "err.corpus_bad_csv": {
        "en": "{where}: the CSV file cannot be parsed ({reason}).",
        "zh": "{where}：CSV 文件无法解析（{reason}）。",
    },
    "err.corpus_column_missing": {
        "en": "{path} has no column '{column}'; its columns are: {columns}.",
        "zh": "{path} 中没有“{column}”列；现有的列为：{columns}。",
    },
    "err.corpus_tokenizer": {
        "en": "The tokenizer of '{model}' could not be loaded: {reason}",
        "zh": "无法加载“{model}”的分词器：{reason}",
    },
    "err.corpus_bad_budget": {
        "en": "The chunk size must be at least 1 token (got {max_tokens}).",
        "zh": "分块大小至少为 1 个 token（当前为 {max_tokens}）。",
    },
    # Steps (progress and timing)
    "corpus.step.read": {"en": "Reading documents", "zh": "读取文档"},
    "corpus.step.normalize": {"en": "Cleaning text", "zh": "清洗文本"},
    "corpus.step.chunk": {"en": "Chunking", "zh": "分块"},
    "corpus.step.exact_dedup": {"en": "Removing exact duplicates", "zh": "精确去重"},
    "corpus.step.filter": {"en": "Quality filtering", "zh": "质量过滤"},
    "corpus.step.near_dedup": {"en": "Removing near duplicates (MinHash)", "zh": "近似去重（MinHash）"},
    "corpus.step.done": {"en": "Done", "zh": "完成"},
    # Why a chunk was removed
    "corpus.reason.exact_dup": {"en": "Exact duplicate", "zh": "完全重复"},
    "corpus.reason.near_dup": {"en": "Near duplicate", "zh": "近似重复"},
    "corpus.reason.too_short": {"en": "Too short", "zh": "过短"},
    "corpus.reason.too_long": {"en": "Too long", "zh": "过长"},
    "corpus.reason.symbol_ratio": {"en": "Too many symbols", "zh": "符号比例过高"},
    "corpus.reason.dup_lines": {"en": "Repeated lines", "zh": "重复行过多"},
    "corpus.reason.top_ngram": {"en": "Repeated phrases", "zh": "重复短语过多"},
    "corpus.reason.language": {"en": "Language not allowed", "zh": "语言不在允许范围内"},
    # Why a file inside a folder was left out
    "corpus.skip.symlink_outside": {"en": "Link pointing outside the folder", "zh": "指向文件夹之外的链接"},
    "corpus.skip.unsupported": {"en": "Format not supported here (PDF/DOCX)", "zh": "暂不支持的格式（PDF/DOCX）"},
    "corpus.skip.unknown_suffix": {"en": "Unknown file type", "zh": "未知文件类型"},
    "corpus.skip.empty": {"en": "Empty file", "zh": "空文件"},
    # Statistics labels
    "corpus.stats.documents": {"en": "Documents", "zh": "文档数"},
    "corpus.stats.chunks": {"en": "Chunks", "zh": "分块数"},
    "corpus.stats.records": {"en": "Records kept", "zh": "保留条数"},
    "corpus.stats.tokens": {"en": "Tokens", "zh": "Token 数"},
    "corpus.stats.histogram": {"en": "Chunk length (tokens)", "zh": "分块长度（token）"},
}
