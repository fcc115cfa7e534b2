"""The A/B arena's labels and messages, in English and Chinese."""

ARENA: dict[str, dict[str, str]] = {
    "ui.ab.model_a": {"en": "Model 1", "zh": "模型 1"},
    "ui.ab.model_b": {"en": "Model 2", "zh": "模型 2"},
    "ui.ab.model.info": {"en": "Sides are shuffled and names hidden until you vote.",
                         "zh": "左右随机交换，投票前不显示模型名称。"},
    "ui.ab.reload": {"en": "Reload models", "zh": "刷新模型列表"},
    "ui.ab.settings": {"en": "System prompt and sampling", "zh": "系统提示词与采样参数"},
    "ui.ab.system": {"en": "System prompt (optional)", "zh": "系统提示词（可选）"},
    "ui.ab.batch": {"en": "Batch: prompts from dataset", "zh": "批量：从数据集取提示词"},
    "ui.ab.next": {"en": "Next prompt", "zh": "下一条"},
    "ui.ab.batch_empty": {"en": "Pick a dataset that has prompts.", "zh": "请选择包含提示词的数据集。"},
    "ui.ab.prompt": {"en": "Prompt", "zh": "提示词"},
    "ui.ab.generate": {"en": "Generate both answers", "zh": "生成两个回答"},
    "ui.ab.left": {"en": "Answer A (left)", "zh": "回答 A（左）"},
    "ui.ab.right": {"en": "Answer B (right)", "zh": "回答 B（右）"},
    "ui.ab.left_named": {"en": "Answer A (left): {model}", "zh": "回答 A（左）：{model}"},
    "ui.ab.right_named": {"en": "Answer B (right): {model}", "zh": "回答 B（右）：{model}"},
    "ui.ab.vote_left": {"en": "← Left (A) better", "zh": "← 左侧（A）更好"},
    "ui.ab.vote_right": {"en": "Right (B) better →", "zh": "右侧（B）更好 →"},
    "ui.ab.vote_tie": {"en": "Tie", "zh": "平局"},
    "ui.ab.vote_both_bad": {"en": "Both bad", "zh": "都不好"},
    "ui.ab.legend": {
        "en": "A is always the left answer and B the right one. In prefs.jsonl a vote's `winner` is `a` or `b` "
              "for the record's `model_a` / `model_b` (Model 1 / Model 2 above), and `left` says which of them "
              "was shown on the left.",
        "zh": "A 始终是左侧回答，B 是右侧回答。prefs.jsonl 中投票的 `winner` 为 `a` 或 `b`，指该记录的 "
              "`model_a` / `model_b`（即上方的模型 1 / 模型 2），`left` 记录其中哪一个显示在左侧。",
    },
    "ui.ab.generating": {"en": "Generating both answers…", "zh": "正在生成两个回答…"},
    "ui.ab.ready": {"en": "Both answers are ready: vote.", "zh": "两个回答已生成，请投票。"},
    "ui.ab.edited": {"en": "Improve the better answer (optional, saved with the vote)",
                     "zh": "改进更好的回答（可选，随投票保存）"},
    "ui.ab.edited.info": {"en": "An edited answer becomes the 'chosen' side of the next DPO round.",
                          "zh": "修改后的回答会作为下一轮 DPO 的 chosen。"},
    "ui.ab.saved": {"en": "Vote `{vote_id}` saved to prefs.jsonl.",
                    "zh": "投票 `{vote_id}` 已写入 prefs.jsonl。"},
    "ui.ab.duplicate": {"en": "Vote `{vote_id}` was already saved; it is stored once.",
                        "zh": "投票 `{vote_id}` 已保存过，只记录一次。"},
    "ui.ab.reveal": {"en": "Left (A) was `{left}`, right (B) was `{right}`.",
                     "zh": "左侧（A）是 `{left}`，右侧（B）是 `{right}`。"},
    "err.arena_left_failed": {
        "en": "The left answer (A) failed, so this round cannot be voted on; generate again. "
              "Cause: {reason}",
        "zh": "左侧回答（A）生成失败，本轮无法投票，请重新生成。原因：{reason}",
    },
    "err.arena_right_failed": {
        "en": "The right answer (B) failed, so this round cannot be voted on; generate again. "
              "Cause: {reason}",
        "zh": "右侧回答（B）生成失败，本轮无法投票，请重新生成。原因：{reason}",
    },
    "err.arena_empty_answer": {"en": "the model returned no text.", "zh": "模型没有返回任何文本。"},
    "err.arena_failed_round": {
        "en": "An answer of this round failed; it cannot be voted on. Generate again.",
        "zh": "本轮有回答生成失败，无法投票，请重新生成。",
    },
}
