//! The console's strings in Chinese and English: one table, looked up by key.
//!
//! A table rather than a translation framework: the console has a hundred-odd short strings, and
//! a unit test checks that every key has both languages and none is listed twice.

/// A language of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 简体中文.
    Zh,
    /// English.
    En,
}

impl Lang {
    /// `zh` or `en`: the cookie value and the `lang` attribute.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// From a cookie value or a path segment.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "zh" | "zh-CN" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The string for `key`; the key itself when the table lacks it (a test keeps that from
    /// happening for the keys the pages use).
    #[must_use]
    pub fn t(self, key: &'static str) -> &'static str {
        self.lookup(TABLE, key).unwrap_or(key)
    }

    /// `key` in this language from `table`, if listed there (the console and the portal each
    /// keep their own table, worded for their readers).
    pub(crate) fn lookup(self, table: &Table, key: &str) -> Option<&'static str> {
        table
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, zh, en)| match self {
                Lang::Zh => *zh,
                Lang::En => *en,
            })
    }
}

/// Strings by key: `(key, 中文, English)`.
pub(crate) type Table = [(&'static str, &'static str, &'static str)];

/// Checks a table: each key listed once with both languages, and every key in `used` listed
/// (a missing one would show its key, or the fallback, on a page).
#[cfg(test)]
pub(crate) fn check_table(table: &Table, used: impl IntoIterator<Item = String>) {
    let mut seen = std::collections::BTreeSet::new();
    for (k, zh, en) in table {
        assert!(seen.insert(*k), "{k} listed twice");
        assert!(!zh.is_empty() && !en.is_empty(), "{k}");
    }
    for k in used {
        assert!(seen.contains(k.as_str()), "{k} is not in the table");
    }
}

/// `(key, 中文, English)`.
pub(crate) const TABLE: &Table = &[
    ("app", "consentry 控制台", "consentry console"),
    ("dashboard", "概览", "Dashboard"),
    ("senders", "商家", "Senders"),
    ("messages", "短信", "Messages"),
    ("timeline", "授权记录", "Consent timeline"),
    ("audit", "审计", "Audit"),
    ("my_key", "我的密钥", "My key"),
    ("sign_in", "登录", "Sign in"),
    ("sign_out", "退出", "Sign out"),
    ("name", "名称", "Name"),
    ("account", "账号", "Account"),
    ("password", "密码", "Password"),
    ("signed_in_as", "当前用户", "Signed in as"),
    ("role_operator", "运营", "operator"),
    ("role_auditor", "审计员（只读）", "auditor (read-only)"),
    ("role_merchant", "商家", "merchant"),
    (
        "bad_credentials",
        "账号或密码错误",
        "Wrong name or password",
    ),
    (
        "too_many_attempts",
        "失败次数过多，请 15 分钟后再试",
        "Too many failed sign-ins; try again in 15 minutes",
    ),
    (
        "merchant_setup",
        "商家首次登录：用 API 密钥设置账号",
        "Merchants: first sign-in with your API key",
    ),
    ("api_key", "API 密钥", "API key"),
    ("create_account", "创建账号", "Create account"),
    (
        "account_created",
        "账号已创建，请登录",
        "Account created; sign in",
    ),
    ("search", "搜索", "Search"),
    ("id", "编号", "Id"),
    ("signature", "签名", "Signature"),
    ("source_number", "回复号码", "Reply number"),
    ("status", "状态", "Status"),
    ("created", "创建时间", "Created"),
    ("active", "正常", "active"),
    ("suspended", "已暂停", "suspended"),
    ("new_sender", "新建商家", "New sender"),
    ("create", "创建", "Create"),
    (
        "shown_once",
        "只显示这一次，请立即保存。",
        "Shown only this once: store it now.",
    ),
    ("smpp_system_id", "SMPP system_id", "SMPP system_id"),
    ("smpp_password", "SMPP 密码", "SMPP password"),
    ("suspension", "暂停", "Suspension"),
    ("reason", "原因", "Reason"),
    ("suspend", "暂停发送", "Suspend"),
    ("lift", "恢复发送", "Lift suspension"),
    ("history", "历史", "History"),
    ("rotate_key", "更换 API 密钥", "Rotate API key"),
    (
        "rotate_warning",
        "旧密钥将立即失效。",
        "The old key stops working at once.",
    ),
    ("new_key", "新的 API 密钥", "New API key"),
    ("edit_sender", "修改名称和签名", "Edit name and signature"),
    ("save", "保存", "Save"),
    (
        "set_smpp_password",
        "重设 SMPP 密码",
        "Set a new SMPP password",
    ),
    ("set_cmpp_secret", "重设 CMPP 密钥", "Set a new CMPP secret"),
    (
        "secret_warning",
        "旧的密码或密钥将立即失效。",
        "The old password or secret stops working at once.",
    ),
    ("cmpp_source_addr", "CMPP Source_Addr", "CMPP Source_Addr"),
    ("cmpp_secret", "CMPP 密钥", "CMPP secret"),
    ("back", "返回", "Back"),
    ("prev_page", "上一页", "Previous"),
    ("next_page", "下一页", "Next"),
    ("first_page", "第一页", "First page"),
    ("related", "相关页面", "Related pages"),
    // A sender page's links to the same lists as the menu's, named apart for screen readers.
    ("shop_consents", "该商户的授权", "This shop's consents"),
    ("shop_messages", "该商户的短信", "This shop's messages"),
    ("shop_complaints", "该商户的投诉", "This shop's complaints"),
    ("sort_by", "按此列排序", "Sort by this column"),
    ("consents_summary", "授权概况", "Consents"),
    ("phones_known", "有记录的号码", "Phones on record"),
    ("recent_changes", "最近的变更", "Recent changes"),
    ("accounts", "账户", "Accounts"),
    ("role", "角色", "Role"),
    ("disabled", "已停用", "disabled"),
    ("enabled", "正常", "enabled"),
    ("disable", "停用", "Disable"),
    (
        "account_disabled",
        "该账户已被停用，请联系运营人员启用。",
        "This account is disabled; ask an operator to enable it.",
    ),
    ("enable", "启用", "Enable"),
    (
        "accounts_hint",
        "停用的账户无法登录，其会话立即结束。新的员工账户用 consentry admin create 创建。",
        "A disabled account cannot sign in, and its sessions end at once. Create staff accounts with consentry admin create.",
    ),
    ("phone", "手机号", "Phone"),
    ("sender", "商家", "Sender"),
    ("any", "全部", "any"),
    ("time", "时间", "Time"),
    ("category", "类别", "Category"),
    ("reasons", "原因", "Reasons"),
    ("delivery", "投递", "Delivery"),
    ("message", "短信", "Message"),
    ("text", "内容", "Text"),
    ("decision", "决定", "Decision"),
    ("decided_at", "决定时间", "Decided at"),
    ("submitted_at", "提交时间", "Submitted at"),
    ("release_at", "计划发送", "Release at"),
    ("content_scores", "内容评分", "Content scores"),
    ("no_scores", "未评分", "not scored"),
    (
        "no_reasons",
        "无（全部检查通过）",
        "none (every check passed)",
    ),
    ("no_results", "没有结果", "Nothing found"),
    ("accepted", "已接受", "accepted"),
    ("deferred", "已推迟", "deferred"),
    ("rejected", "已拒绝", "rejected"),
    ("at_time", "时间点", "At"),
    (
        "at_hint",
        "RFC 3339 或 YYYY-MM-DD，UTC；留空为现在",
        "RFC 3339 or YYYY-MM-DD, UTC; empty for now",
    ),
    ("ask", "查询", "Ask"),
    (
        "consent_at",
        "该时间点是否有授权？",
        "Was there consent at that time?",
    ),
    ("consented", "已同意", "consented"),
    ("opted_out", "已退订", "opted out"),
    ("no_consent", "从未同意", "no consent"),
    (
        "platform_opted_out",
        "已拒收全部商家营销短信",
        "Refuses marketing from every shop",
    ),
    ("deciding_event", "决定性事件", "Deciding event"),
    ("since", "自", "Since"),
    ("events", "事件", "Events"),
    ("action", "动作", "Action"),
    ("scope", "范围", "Scope"),
    ("source", "来源", "Source"),
    ("actor", "记录者", "Recorded by"),
    ("evidence", "证据", "Evidence"),
    ("recorded_at", "记录时间", "Recorded at"),
    ("audit_head", "审计链头", "Audit chain head"),
    ("blocks", "区块", "Blocks"),
    ("records", "记录", "Records"),
    ("hash", "哈希", "Hash"),
    ("verify_now", "立即校验", "Verify now"),
    ("chain_intact", "审计链完整", "The audit chain is intact"),
    ("chain_broken", "审计链已损坏", "The audit chain is BROKEN"),
    ("first_broken", "第一个损坏处", "First broken record"),
    ("today", "今天", "Today"),
    ("last_30_days", "最近 30 天", "Last 30 days"),
    (
        "decisions_by_status",
        "按状态统计的决定",
        "Decisions by status",
    ),
    ("sent_and_blocked", "已发送与已拦截", "Sent and blocked"),
    (
        "enforcement",
        "退订、投诉与暂停",
        "Opt-outs, complaints, suspensions",
    ),
    ("blocked_by_reason", "拦截原因", "Blocked, by reason"),
    ("sent", "已发送", "sent"),
    ("blocked", "已拦截", "blocked"),
    ("opt_outs", "退订", "opt-outs"),
    ("complaints", "投诉", "complaints"),
    ("suspensions", "暂停", "suspensions"),
    ("nothing_yet", "暂无数据", "Nothing yet"),
    ("forbidden", "无权执行此操作", "You may not do this"),
    (
        "csrf_failed",
        "表单已过期或来源不明，请刷新页面后重试",
        "The form is stale or did not come from this console; reload and retry",
    ),
    ("not_found", "未找到", "Not found"),
    ("error", "出错了", "Something went wrong"),
    ("read_only", "只读账号", "Read-only account"),
    ("language", "Language", "语言"),
    ("other_lang", "English", "中文"),
    ("skip_to_content", "跳到正文", "Skip to content"),
    ("page", "页", "Page"),
    ("complaints_title", "投诉", "Complaints"),
    ("complaint", "投诉", "Complaint"),
    ("reports", "商家报告", "Sender reports"),
    ("verdict", "裁定", "Verdict"),
    ("violation", "违规", "violation"),
    ("no_violation", "未违规", "no violation"),
    ("unverified", "无法核实", "unverified"),
    ("kind", "类型", "Kind"),
    ("unwanted_marketing", "未经同意的营销", "unwanted marketing"),
    ("after_optout", "退订后仍发送", "after opting out"),
    ("fraud", "诈骗", "fraud"),
    ("other", "其他", "other"),
    ("findings", "认定", "Findings"),
    ("ground", "依据", "Ground"),
    ("filed_at", "投诉时间", "Filed at"),
    ("filed_by", "提交者", "filed by"),
    ("received_at", "收到时间", "Received at"),
    ("note", "备注", "Note"),
    ("matched", "对应短信", "matched"),
    ("no_candidate", "未找到对应短信", "no matching message"),
    ("ambiguous", "对应短信不唯一", "ambiguous match"),
    (
        "treated_as_marketing",
        "按营销短信认定",
        "treated as marketing",
    ),
    ("consent_at_send", "发送时的授权", "Consent when sent"),
    (
        "download_evidence",
        "下载证据包",
        "Download evidence bundle",
    ),
    ("from", "开始（UTC）", "From (UTC)"),
    ("to", "结束（UTC）", "To (UTC)"),
    ("show", "显示", "Show"),
    ("export_csv", "导出 CSV", "Export CSV"),
    ("period", "期间", "Period"),
    ("sent_by_sender", "各商家发送量", "Sent, by sender"),
    ("blocked_by_sender", "各商家被拦截量", "Blocked, by sender"),
    (
        "complaints_by_sender",
        "各商家投诉量",
        "Complaints, by sender",
    ),
    ("marketing_sent", "营销短信", "marketing sent"),
    ("violations", "违规", "violations"),
    (
        "complaint_rate",
        "投诉率（每万条营销，被认定违规的号码数）",
        "upheld phones per 10k marketing",
    ),
    ("suspended_since", "暂停于", "since"),
    (
        "upheld_phones",
        "被认定违规的投诉号码",
        "phones with upheld complaints",
    ),
    (
        "platform_opt_outs",
        "全平台退订（对所有商家生效，未计入任何商家）",
        "Platform-wide opt-outs (stop every sender; counted against none)",
    ),
    (
        "platform_notices",
        "平台自身发送的通知（退订确认、帮助答复）",
        "Notices the platform sent in its own name (opt-out confirmations, help answers)",
    ),
    (
        "unverified_complaints",
        "无法核实的投诉（未计入任何商家）",
        "Unverified complaints (counted against no sender)",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_are_looked_up() {
        assert_eq!(Lang::Zh.t("sign_in"), "登录");
        assert_eq!(Lang::En.t("sign_in"), "Sign in");
    }

    /// Every literal key a page looks up is in the table (a missing one would show its key).
    /// Keys built at run time (verdicts, complaint kinds) are listed here by hand.
    #[test]
    fn every_key_the_pages_use_is_in_the_table() {
        let sources = [
            include_str!("audit.rs"),
            include_str!("complaints.rs"),
            include_str!("consents.rs"),
            include_str!("dashboard.rs"),
            include_str!("layout.rs"),
            include_str!("messages.rs"),
            include_str!("reports.rs"),
            include_str!("senders.rs"),
            include_str!("signin.rs"),
        ];
        let mut keys: Vec<String> = sources
            .iter()
            .flat_map(|src| src.split(".t(\"").skip(1))
            .filter_map(|rest| rest.split_once('"').map(|(k, _)| k.to_string()))
            .collect();
        assert!(keys.len() > 100, "found {} keys", keys.len());
        keys.extend(
            [
                "accepted",
                "deferred",
                "rejected",
                "violation",
                "no_violation",
                "unverified",
                "unwanted_marketing",
                "after_optout",
                "fraud",
                "other",
            ]
            .map(String::from),
        );
        check_table(TABLE, keys);
    }
}
