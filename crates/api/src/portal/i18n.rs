//! The portal's strings in Chinese and English, errors included: one table, looked up by key.
//!
//! The portal's own table (not the console's): its readers are consumers, not staff, so the
//! same idea is often worded differently ("退订" here is the consumer's own act). A unit test
//! checks that every key a page uses is here, in both languages, once.

use crate::console::i18n::{Lang, Table};

/// The string for `key` in `lang`; the generic error line if the table lacks it (the test
/// keeps that from happening for the keys the pages use).
pub(crate) fn t(lang: Lang, key: &str) -> &'static str {
    lang.lookup(TABLE, key)
        .or_else(|| lang.lookup(TABLE, "error"))
        .unwrap_or("error")
}

/// `(key, 中文, English)`. `error` is what a missing key shows.
pub(crate) const TABLE: &Table = &[
    (
        "error",
        "出错了，请稍后再试",
        "Something went wrong; try again later",
    ),
    ("title", "营销短信授权", "Marketing consent"),
    (
        "intro",
        "查看并管理哪些商家可以给您发营销短信，举报您收到的短信。",
        "See and control which shops may send you marketing, and report messages you received.",
    ),
    ("skip", "跳到正文", "Skip to content"),
    ("other_lang", "English", "中文"),
    ("phone", "手机号", "Phone number"),
    (
        "phone_hint",
        "我们会向这个号码发送一条验证码短信，证明号码属于您。",
        "We send a code by SMS to this number to prove it is yours.",
    ),
    ("send_code", "发送验证码", "Send code"),
    ("code", "验证码", "Code"),
    (
        "code_sent",
        "验证码已发送到 {phone}，10 分钟内有效。",
        "A code was sent to {phone}; it is valid for 10 minutes.",
    ),
    ("verify", "确认", "Verify"),
    ("other_number", "换一个号码", "Use another number"),
    ("signed_in_as", "您的号码", "Your number"),
    ("sign_out", "退出", "Sign out"),
    ("signed_out", "您已退出。", "You have signed out."),
    // States, in the consumer's words.
    ("consented", "已同意", "Consented"),
    ("opted_out", "已退订", "Refused"),
    ("no_consent", "从未同意", "Never agreed"),
    ("shops", "商家", "Shops"),
    (
        "no_shops",
        "还没有商家记录过您的授权，也没有商家给您发过短信。",
        "No shop has recorded your consent or sent you a message yet.",
    ),
    ("since", "自", "since"),
    ("refuse", "拒收这家", "Refuse this shop"),
    ("allow", "重新允许这家", "Allow this shop again"),
    (
        "allow_hint",
        "重新允许是您本人的同意，这家商家可以再给您发营销短信。",
        "Allowing again is your own consent: this shop may send you marketing again.",
    ),
    ("all_shops", "全部商家", "Every shop"),
    (
        "all_refused",
        "您已拒收全部商家的营销短信。",
        "You refuse marketing from every shop.",
    ),
    (
        "all_open",
        "您没有拒收全部商家的营销短信：每家商家按上面的状态处理。",
        "You have not refused every shop: each shop is as shown above.",
    ),
    (
        "refuse_all",
        "拒收全部商家的营销短信",
        "Refuse marketing from every shop",
    ),
    (
        "lift_all",
        "撤销“拒收全部”（不会给任何商家授权）",
        "Withdraw “refuse every shop” (gives no shop consent)",
    ),
    ("history", "完整记录", "Full history"),
    (
        "history_all",
        "对全部商家的选择",
        "Your choices for every shop",
    ),
    ("when", "时间", "When"),
    ("what", "内容", "What"),
    ("how", "方式", "How"),
    ("by_whom", "来源", "Source"),
    ("evidence", "凭证", "Evidence"),
    ("ev_opt_in", "同意", "Consent"),
    ("ev_opt_out", "退订", "Refusal"),
    (
        "ev_opt_in_all",
        "撤销拒收全部",
        "Withdrew refusing every shop",
    ),
    ("ev_opt_out_all", "拒收全部商家", "Refused every shop"),
    ("src_web", "网页表单", "web form"),
    ("src_reply", "短信回复", "SMS reply"),
    ("src_app", "手机应用", "app"),
    ("src_hotline", "客服电话", "hotline call"),
    ("src_api", "商家系统", "shop's system"),
    ("src_import", "批量导入", "bulk import"),
    ("src_portal", "本页面", "this portal"),
    ("by_you", "您本人的选择", "your own choice"),
    (
        "by_platform",
        "平台客服代您记录",
        "recorded for you by the platform",
    ),
    ("by_shop", "商家记录", "recorded by the shop"),
    // Notices after an action.
    (
        "done_refused",
        "已拒收这家商家的营销短信。",
        "That shop may no longer send you marketing.",
    ),
    (
        "done_allowed",
        "已重新允许这家商家。",
        "That shop may send you marketing again.",
    ),
    (
        "done_refused_all",
        "已拒收全部商家的营销短信。",
        "No shop may send you marketing now.",
    ),
    (
        "done_allowed_all",
        "已撤销“拒收全部”。",
        "You no longer refuse every shop.",
    ),
    (
        "done_filed",
        "举报已提交（编号 {id}）：",
        "Complaint filed (number {id}): ",
    ),
    (
        "violation",
        "经核实，该短信违规。",
        "the message broke the rules.",
    ),
    (
        "no_violation",
        "经核实，该短信未违规（例如发送时有您的授权，或不是营销短信）。",
        "the message broke no rule (for example, your consent was on record, or it was not marketing).",
    ),
    (
        "unverified",
        "暂时无法核实，平台会人工处理。",
        "it could not be verified yet; the platform will look at it.",
    ),
    // Complaints.
    ("report", "举报我收到的短信", "Report a message I received"),
    ("report_pick", "从列表中选择", "Pick it from the list"),
    ("report_paste", "粘贴短信内容", "Paste the message"),
    (
        "no_messages",
        "最近 30 天没有发给您的短信。您可以在下面粘贴短信内容举报。",
        "No messages were sent to you in the last 30 days. You can paste a message below.",
    ),
    ("message", "短信", "Message"),
    ("reason", "原因", "Reason"),
    (
        "unwanted_marketing",
        "未经同意的营销",
        "Marketing I never agreed to",
    ),
    ("after_optout", "退订后仍收到", "Sent after I refused"),
    ("fraud", "诈骗", "Fraud"),
    ("other", "其他", "Other"),
    ("note", "补充说明（可选）", "Note (optional)"),
    ("pasted_text", "短信内容", "The message's text"),
    (
        "pasted_hint",
        "请包含开头或结尾的【商家签名】，我们据此找到发送的商家。",
        "Include the 【shop signature】 at its start or end: it tells us which shop sent it.",
    ),
    ("file", "提交举报", "File complaint"),
    // Errors, by the API's stable code.
    (
        "invalid_number",
        "手机号格式不正确。",
        "That is not a valid phone number.",
    ),
    (
        "forbidden",
        "本服务不向该号码所在的国家或地区发送验证码。",
        "Codes are not sent to numbers of that country.",
    ),
    (
        "too_many_requests",
        "验证码发送过于频繁，请稍后再试。",
        "Too many codes were requested; wait a minute and try again.",
    ),
    (
        "invalid_code",
        "验证码错误或已过期。",
        "The code is wrong or has expired.",
    ),
    (
        "duplicate_complaint",
        "您已举报过这条短信。",
        "You already reported this message.",
    ),
    (
        "too_many_complaints",
        "今天举报次数过多，请明天再试。",
        "Too many complaints today; try again tomorrow.",
    ),
    (
        "unknown_message",
        "找不到这条发给您的短信。",
        "That message was not sent to your number.",
    ),
    (
        "unattributed_complaint",
        "无法确定这条短信来自哪家商家：90 天内没有带这个签名的商家给您的号码发过短信，也没有内容相似的短信。请在上方“从列表中选择”里选出您收到的这条短信。",
        "We could not tie it to a shop that sent a message to your number in the last 90 days (by its 【signature】 or its text). Please pick the message you received under “Pick it from the list” above.",
    ),
    ("unknown_sender", "找不到这家商家。", "No such shop."),
    (
        "invalid_field",
        "请检查填写的内容（短信内容不能为空，最多 1000 字；说明最多 2000 字）。",
        "Check what you entered (the message cannot be empty and has at most 1000 characters; a note at most 2000).",
    ),
    (
        "consumer_refused",
        "该操作与您本人的拒收冲突。",
        "This conflicts with a refusal you gave.",
    ),
    (
        "unavailable",
        "服务暂时不可用，未做任何更改，请稍后再试。",
        "The service is unavailable right now; nothing was changed. Try again later.",
    ),
    (
        "csrf_failed",
        "表单已过期或不是来自本页面，未做任何更改。请刷新页面后重试。",
        "The form is stale or did not come from this page; nothing was changed. Reload and retry.",
    ),
    (
        "session_expired",
        "登录已过期，请重新获取验证码。",
        "Your session has ended; get a new code to continue.",
    ),
    ("not_found", "页面不存在。", "No such page."),
    ("back", "返回", "Back"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_are_looked_up() {
        assert_eq!(t(Lang::Zh, "opted_out"), "已退订");
        assert_eq!(t(Lang::En, "no_consent"), "Never agreed");
        assert_eq!(
            t(Lang::En, "no_such_key"),
            "Something went wrong; try again later"
        );
    }

    /// Every literal key a page looks up is in the table; keys built at run time (states,
    /// sources, verdicts, kinds, error codes) are listed by hand.
    #[test]
    fn every_key_the_pages_use_is_in_the_table() {
        let sources = [
            include_str!("pages.rs"),
            include_str!("actions.rs"),
            include_str!("session.rs"),
            include_str!("history.rs"),
        ];
        // `t(lang, "key")`, not another call ending in `t(` (`document(lang, "/portal"`).
        let mut keys: Vec<String> = sources
            .iter()
            .flat_map(|src| {
                src.match_indices("t(lang, \"")
                    .map(move |(at, m)| (src, at, m))
            })
            .filter(|(src, at, _)| {
                !src[..*at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
            .filter_map(|(src, at, m)| {
                let rest = &src[at + m.len()..];
                rest.split_once('"').map(|(k, _)| k.to_string())
            })
            .collect();
        assert!(keys.len() > 40, "found {} keys", keys.len());
        keys.extend(
            [
                "consented",
                "opted_out",
                "no_consent",
                "violation",
                "no_violation",
                "unverified",
                "unwanted_marketing",
                "after_optout",
                "fraud",
                "other",
                "src_web",
                "src_reply",
                "src_app",
                "src_hotline",
                "src_api",
                "src_import",
                "src_portal",
            ]
            .map(String::from),
        );
        for code in super::super::session::ERROR_KEYS {
            keys.push((*code).to_string());
        }
        crate::console::i18n::check_table(TABLE, keys);
    }
}
