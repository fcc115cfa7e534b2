"""mergekit merge strings: method and parameter help, refusals before a merge runs, the merge job, in English and
Chinese."""

_METHOD_HELP = {
    "linear": ("Weighted average of the models' weights; weights are normalised to sum to 1 unless normalize is off.",
               "按权重对各模型参数求加权平均；除非关闭 normalize，权重会被归一化为和为 1。"),
    "slerp": ("Spherical interpolation between the base and one other model; t=0 gives the base, t=1 the other.",
              "在基座与另一个模型之间做球面插值；t=0 得到基座，t=1 得到另一个模型。"),
    "nuslerp": ("SLERP of two models' weights (or of their task vectors when a base is given), weighted per model.",
                "对两个模型的参数做球面插值（给出基座时对其任务向量插值），按模型加权。"),
    "multislerp": ("Spherical interpolation of any number of models, weighted per model, around an optional base.",
                   "对任意多个模型做加权球面插值，可选基座。"),
    "task_arithmetic": ("Adds each model's difference from the base (its task vector), scaled by its weight.",
                        "把每个模型相对基座的差值（任务向量）乘以其权重后加回基座。"),
    "ties": ("TIES: keeps each task vector's largest entries (density), resolves sign conflicts, then adds them.",
             "TIES：保留每个任务向量中最大的部分（density），解决符号冲突后相加。"),
    "dare_linear": ("DARE: drops task-vector entries at random (keeping density) and rescales, then adds linearly.",
                    "DARE：随机丢弃任务向量中的元素（保留 density 比例）并重新缩放，再线性相加。"),
    "dare_ties": ("DARE dropping with TIES sign consensus.", "DARE 随机丢弃，加上 TIES 的符号一致性处理。"),
    "breadcrumbs": ("Model Breadcrumbs: drops both the smallest and the largest task-vector entries, then adds.",
                    "Model Breadcrumbs：同时丢弃任务向量中最小和最大的元素后相加。"),
    "breadcrumbs_ties": ("Model Breadcrumbs with TIES sign consensus.", "Model Breadcrumbs 加上 TIES 的符号一致性处理。"),
    "della": ("DELLA: drops task-vector entries with a probability that falls with their magnitude, TIES consensus.",
              "DELLA：按幅度决定丢弃概率（幅度越大越少丢弃），并做 TIES 符号一致性处理。"),
    "della_linear": ("DELLA dropping, added linearly without sign consensus.", "DELLA 式丢弃，线性相加，不做符号一致性处理。"),
    "model_stock": ("Model Stock: interpolates towards the base by the angle between at least two fine-tunes.",
                    "Model Stock：根据至少两个微调模型之间的夹角，向基座插值。"),
    "passthrough": ("Copies one model's tensors unchanged (for layer stacking with slices).",
                    "原样复制一个模型的张量（用于按层切片拼接）。"),
    "karcher": ("Karcher (Riemannian) mean of the models' weights.", "各模型参数的 Karcher（黎曼）均值。"),
    "arcee_fusion": ("Arcee Fusion: takes the other model's changes where they matter most, onto the base.",
                     "Arcee Fusion：把另一个模型最重要的改动融合到基座上。"),
    "nearswap": ("NearSwap: takes the other model's values where they are close to the base (threshold t).",
                 "NearSwap：在与基座足够接近处（阈值 t）采用另一个模型的值。"),
    "sce": ("SCE: selects the most varying task-vector entries, computes weights from them, erases sign conflicts.",
            "SCE：选出变化最大的任务向量元素，据此计算权重并消除符号冲突。"),
    "ram": ("Reinforced Agent Merging: averages task vectors, rescaled where only some models changed a weight.",
            "强化智能体合并：对任务向量求平均，并对只有部分模型改动的参数重新缩放。"),
    "ramplus_tl": ("RAM+ (tensor-local): RAM with a contribution threshold r and an extra rescale alpha.",
                   "RAM+（张量局部）：带贡献阈值 r 与额外缩放 alpha 的 RAM。"),
}

_PARAM_HELP = {
    "weight": ("How much this model counts.", "该模型所占的权重。"),
    "normalize": ("Divide by the sum of the weights.", "除以权重之和（归一化）。"),
    "t": ("Interpolation point: 0 is the base, 1 the other model.", "插值位置：0 为基座，1 为另一个模型。"),
    "density": ("Fraction of task-vector entries kept (0–1].", "保留的任务向量元素比例（0–1]。"),
    "lambda": ("Scale of the summed task vectors.", "合并后任务向量的缩放系数。"),
    "rescale": ("Rescale kept entries to preserve the expected value.", "对保留的元素重新缩放以保持期望不变。"),
    "int8_mask": ("Store masks as int8 to save memory.", "以 int8 存储掩码以节省内存。"),
    "epsilon": ("Spread of drop probabilities around density.", "丢弃概率围绕 density 的浮动幅度。"),
    "ram.epsilon": ("Changes smaller than this count as unchanged.", "小于该值的改动视为未改动。"),
    "ramplus_tl.epsilon": ("Changes smaller than this count as unchanged.", "小于该值的改动视为未改动。"),
    "nearswap.t": ("Similarity threshold: where the models differ less than this, the other model's value is taken.",
                   "相似度阈值：两模型差异小于该值处采用另一个模型的值。"),
    "normalize_weights": ("Divide by the sum of the weights.", "除以权重之和（归一化）。"),
    "eps": ("A small constant that keeps the arithmetic stable.", "保证数值稳定的小常数。"),
    "select_topk": ("Fraction of the most varying entries kept.", "保留变化最大元素的比例。"),
    "r": ("Contribution threshold.", "贡献阈值。"),
    "alpha": ("Extra rescaling strength.", "额外缩放强度。"),
    "max_iter": ("Most iterations of the mean.", "均值迭代的最大次数。"),
    "tol": ("Stop iterating when the change is below this.", "变化小于该值时停止迭代。"),
    "nuslerp_row_wise": ("Interpolate row by row rather than whole tensors.", "逐行而不是整个张量插值。"),
    "nuslerp_flatten": ("Treat each tensor as one flat vector.", "把每个张量视为一个展平的向量。"),
    "scale": ("Multiply this model's tensors by this factor.", "把该模型的张量乘以此系数。"),
    "gamma": ("Fraction of the largest entries also dropped.", "同时丢弃的最大元素比例。"),
    "filter_wise": ("Compute per row rather than per tensor.", "按行而不是按整个张量计算。"),
}

SURGERY_MERGE: dict[str, dict[str, str]] = {
    **{f"sg.method.{name}.help": {"en": en, "zh": zh} for name, (en, zh) in _METHOD_HELP.items()},
    **{f"sgm.param.{name}.help": {"en": en, "zh": zh} for name, (en, zh) in _PARAM_HELP.items()},
    "sg.method.generic.help": {
        "en": "{pretty}: a mergekit method without a description here; see {url}.",
        "zh": "{pretty}：mergekit 的合并方法，此处暂无说明；参见 {url}。",
    },
    "sgm.param.generic.help": {"en": "A {type} parameter of {method}.", "zh": "{method} 的 {type} 类型参数。"},
    "sgm.scope.shared": {"en": "one value for the whole merge", "zh": "整个合并共用一个值"},
    "sgm.scope.input": {"en": "one value per model", "zh": "每个模型各一个值"},
    "sgm.scope.non_base": {"en": "one value per model other than the base", "zh": "除基座外每个模型各一个值"},
    "sgm.base.required": {"en": "needs a base model", "zh": "需要基座模型"},
    "sgm.base.optional": {"en": "a base model is optional", "zh": "基座模型可选"},
    "sgm.base.forbidden": {"en": "takes no base model", "zh": "不接受基座模型"},
    "sgm.base.ignored": {"en": "takes no base model", "zh": "不接受基座模型"},
    "sgm.equal_weights": {
        "en": "No weights were given: each model gets {weight}.",
        "zh": "未给出权重：每个模型取 {weight}。",
    },
    "sgm.adapter_note": {
        "en": "{model} is a LoRA adapter: mergekit merges it into its base first (model+lora, cached in {cache}).",
        "zh": "{model} 是 LoRA 适配器：mergekit 会先把它合并进其基座（model+lora 形式，缓存在 {cache}）。",
    },
    "jobs.kind.mergekit": {"en": "mergekit merge", "zh": "mergekit 合并"},
    "err.sgm_method_unknown": {
        "en": "Unknown merge method {method}; mergekit has: {known}.",
        "zh": "未知的合并方法 {method}；mergekit 支持：{known}。",
    },
    "err.sgm_model_count": {
        "en": "A merge takes 2 to 8 models (the base included); {count} given.",
        "zh": "一次合并需要 2 到 8 个模型（含基座）；当前为 {count} 个。",
    },
    "err.sgm_input_count": {
        "en": "{method} takes {rule}; {count} given.",
        "zh": "{method} 需要 {rule}；当前为 {count} 个。",
    },
    "err.sgm_rule_exactly": {"en": "exactly {n} models (the base included)", "zh": "恰好 {n} 个模型（含基座）"},
    "err.sgm_rule_at_least": {"en": "at least {n} models (the base included)", "zh": "至少 {n} 个模型（含基座）"},
    "err.sgm_rule_at_most": {"en": "at most {n} models (the base included)", "zh": "至多 {n} 个模型（含基座）"},
    "err.sgm_rule_non_base": {"en": "exactly {n} models besides the base", "zh": "除基座外恰好 {n} 个模型"},
    "err.sgm_rule_non_base_min": {"en": "at least {n} models besides the base", "zh": "除基座外至少 {n} 个模型"},
    "err.sgm_base_required": {
        "en": "{method} needs a base model: name one with --base (it may also be one of the models).",
        "zh": "{method} 需要基座模型：请用 --base 指定（可以是参与合并的模型之一）。",
    },
    "err.sgm_base_forbidden": {
        "en": "{method} takes no base model; leave --base out.",
        "zh": "{method} 不接受基座模型；请去掉 --base。",
    },
    "err.sgm_duplicate_model": {
        "en": "{model} is named twice; each model may take part once.",
        "zh": "{model} 出现了两次；每个模型只能参与一次。",
    },
    "err.sgm_param_unknown": {
        "en": "{method} has no parameter {param}; it takes: {known}.",
        "zh": "{method} 没有参数 {param}；可用参数：{known}。",
    },
    "err.sgm_param_missing": {
        "en": "{method} needs {param} ({where}).",
        "zh": "{method} 需要参数 {param}（{where}）。",
    },
    "err.sgm_param_type": {
        "en": "{param}={value} is not a valid {type}.",
        "zh": "{param}={value} 不是有效的 {type} 值。",
    },
    "err.sgm_param_range": {
        "en": "{param}={value} is outside {low}…{high}.",
        "zh": "{param}={value} 超出范围 {low}…{high}。",
    },
    "err.sgm_weight_negative": {
        "en": "The weight of {model} is {value}: {method} averages the models themselves, so weights must not be "
              "negative.",
        "zh": "{model} 的权重为 {value}：{method} 直接平均模型本身，权重不能为负。",
    },
    "err.sgm_weight_sum": {
        "en": "The weights add up to {total}, not 1: make them sum to 1 or turn normalize on.",
        "zh": "权重之和为 {total}，不是 1：请让权重之和为 1，或打开 normalize。",
    },
    "err.sgm_weight_zero": {
        "en": "The weights add up to {total}; normalising needs a positive sum.",
        "zh": "权重之和为 {total}；归一化需要正的权重和。",
    },
    "err.sgm_weight_partial": {
        "en": "{model} has no weight while other models have one: give every model a weight or none.",
        "zh": "{model} 没有权重而其他模型有：请为每个模型都给出权重，或都不给。",
    },
    "err.sgm_base_params": {
        "en": "The base {model} takes no per-model parameters in {method}.",
        "zh": "在 {method} 中，基座 {model} 不接受逐模型参数。",
    },
    "err.sgm_model_not_local": {
        "en": "{model} is not a local model folder (merges read weights from disk; no model hub).",
        "zh": "{model} 不是本地模型文件夹（合并从磁盘读取权重；不使用模型仓库）。",
    },
    "err.sgm_model_kind": {
        "en": "{model} is a {kind} entry; a merge takes base, merged or adapter versions, or model folders.",
        "zh": "{model} 是 {kind} 类型；合并只接受基座、合并或适配器版本，或模型文件夹。",
    },
    "err.sgm_model_outside": {
        "en": "{path} is outside the workspace; copy the model under it or register it first.",
        "zh": "{path} 不在工作区内；请先把模型复制到工作区或先注册它。",
    },
    "err.sgm_model_folder": {
        "en": "{path} holds no model (config.json and safetensors weights).",
        "zh": "{path} 中没有模型（config.json 与 safetensors 权重）。",
    },
    "err.sgm_path_chars": {
        "en": "{path} contains '+' or '@', which mergekit reads as adapter or revision markers.",
        "zh": "{path} 含有 '+' 或 '@'，mergekit 会把它们当作适配器或版本标记。",
    },
    "err.sgm_arch_differs": {
        "en": "{first} and {other} differ in {key}: {a} vs {b}; only models of one architecture merge.",
        "zh": "{first} 与 {other} 的 {key} 不同：{a} 对 {b}；只有同一架构的模型才能合并。",
    },
    "err.sgm_shape_differs": {
        "en": "{first} and {other} differ in {key}: {a} vs {b}; their tensors would not line up.",
        "zh": "{first} 与 {other} 的 {key} 不同：{a} 对 {b}；它们的张量无法对齐。",
    },
    "err.sgm_tokenizer_differs": {
        "en": "{first} and {other} have different tokenizers: set tokenizer_source to base, union or one model.",
        "zh": "{first} 与 {other} 的分词器不同：请把 tokenizer_source 设为 base、union 或其中一个模型。",
    },
    "err.sgm_tokenizer_source": {
        "en": "tokenizer_source {value} must be base (with a base model), union, or one of the merged models.",
        "zh": "tokenizer_source {value} 必须是 base（需有基座）、union，或参与合并的模型之一。",
    },
    "err.sgm_dtype": {
        "en": "dtype {value} is not one of {known}.",
        "zh": "dtype {value} 不在 {known} 之中。",
    },
    "err.sgm_merge_failed": {
        "en": "mergekit could not merge: {reason}",
        "zh": "mergekit 合并失败：{reason}",
    },
}
