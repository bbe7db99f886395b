//! `/portal`: the consumer portal as one self-contained page (no external assets) over the
//! `/v1/portal/*` API: enter your number, enter the code it received, see every shop that may
//! send you marketing, refuse one or all, and report a message you received (picked from the
//! messages sent to your number) as your own complaint.

use std::sync::OnceLock;

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

const PAGE: &str = r##"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>营销短信授权 · Marketing consent</title>
<style>
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}
input,button,select,textarea{font-size:1rem;max-width:100%;padding:.4rem .6rem;margin:.2rem 0}button{cursor:pointer}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}
.hidden{display:none}.err{color:#b00}.ok{color:#070}
</style></head><body>
<h1>营销短信授权 <small>Marketing consent</small></h1>
<p>查看并管理哪些商家可以给您发营销短信。See and control which shops may send you marketing.</p>
<section id="s1"><label>手机号 Phone <input id="phone" inputmode="tel" autocomplete="tel"></label>
<button id="send">发送验证码 Send code</button></section>
<section id="s2" class="hidden"><label>验证码 Code <input id="code" inputmode="numeric" maxlength="6"></label>
<button id="login">确认 Verify</button></section>
<section id="s3" class="hidden">
<p><button id="all">拒收全部商家营销短信 Refuse all shop marketing</button></p>
<table><thead><tr><th>商家 Shop</th><th>状态 State</th><th></th></tr></thead><tbody id="rows"></tbody></table>
<h2>举报短信 <small>Report a message</small></h2>
<p id="nomsg" class="hidden">最近 30 天没有发给您的短信。No messages sent to you in the last 30 days.</p>
<form id="complain" class="hidden">
<label>短信 Message <select id="cmsg"></select></label><br>
<label>原因 Reason <select id="ckind">
<option value="unwanted_marketing">未经同意的营销 Marketing I never agreed to</option>
<option value="after_optout">退订后仍收到 Sent after I refused</option>
<option value="fraud">诈骗 Fraud</option>
<option value="other">其他 Other</option></select></label><br>
<label>补充说明（可选）Note (optional) <textarea id="cnote" maxlength="2000" rows="2"></textarea></label><br>
<button id="csend" type="submit">提交举报 File complaint</button></form>
</section>
<p id="msg" role="status"></p>
<script>
let token=null;const $=id=>document.getElementById(id);
const STATES={consented:"已同意 Agreed",opted_out:"已退订 Refused",no_consent:"从未同意 Never agreed"};
const say=(t,bad)=>{$("msg").textContent=t;$("msg").className=bad?"err":"ok"};
const VERDICTS={violation:"经核实，该短信违规 The message broke the rules",no_violation:"经核实，该短信未违规 The message was sent lawfully",unverified:"未能核实 Could not be verified"};
const ERRORS={duplicate_complaint:"您已举报过这条短信 You already reported this message",too_many_complaints:"今天举报次数过多，请明天再试 Too many complaints today; try tomorrow",unknown_message:"找不到这条短信 Message not found"};
async function call(method,path,body){
  const r=await fetch(path,{method,headers:Object.assign({"content-type":"application/json"},token?{authorization:"Bearer "+token}:{}),body:body?JSON.stringify(body):undefined});
  const v=await r.json().catch(()=>({}));if(!r.ok){const c=v.error&&v.error.code;throw new Error(ERRORS[c]||(v.error&&v.error.message)||r.status)}return v}
async function received(){const v=await call("GET","/v1/portal/messages");const sel=$("cmsg");sel.textContent="";
  for(const m of v.messages){const o=document.createElement("option");o.value=m.id;
    o.textContent=m.sent_at.slice(0,16).replace("T"," ")+" · "+(m.sender_name||("#"+m.sender_id))+" · "+m.text.slice(0,40);sel.appendChild(o)}
  $("complain").classList.toggle("hidden",!v.messages.length);$("nomsg").classList.toggle("hidden",!!v.messages.length)}
async function load(){const v=await call("GET","/v1/portal/consents");const rows=$("rows");rows.textContent="";
  for(const s of v.senders){const tr=document.createElement("tr");
    const b=document.createElement("button");const out=s.state==="consented";
    b.textContent=out?"拒收 Refuse":"允许 Allow";b.onclick=()=>choose(out?"opt_out":"opt_in",s.sender_id);
    for(const t of [s.name||("#"+s.sender_id),STATES[s.state]||s.state]){const td=document.createElement("td");td.textContent=t;tr.appendChild(td)}
    const td=document.createElement("td");td.appendChild(b);tr.appendChild(td);rows.appendChild(tr)}
  say(v.platform_opted_out?"已拒收全部商家营销 All shop marketing refused":"")}
async function choose(action,sender_id){try{await call("POST","/v1/portal/consents",sender_id?{action,sender_id}:{action});await load()}catch(e){say(e.message,true)}}
$("send").onclick=async()=>{try{await call("POST","/v1/portal/code",{phone:$("phone").value});$("s2").classList.remove("hidden");say("验证码已发送 Code sent")}catch(e){say(e.message,true)}};
$("login").onclick=async()=>{try{const v=await call("POST","/v1/portal/session",{phone:$("phone").value,code:$("code").value});token=v.token;
  $("s1").classList.add("hidden");$("s2").classList.add("hidden");$("s3").classList.remove("hidden");await load();await received()}catch(e){say(e.message,true)}};
$("all").onclick=()=>choose("opt_out",null);
$("complain").onsubmit=async(e)=>{e.preventDefault();try{const note=$("cnote").value.trim();
  const v=await call("POST","/v1/portal/complaints",Object.assign({message_id:Number($("cmsg").value),kind:$("ckind").value},note?{note}:{}));
  say("举报已提交 Complaint filed (#"+v.id+")："+(VERDICTS[v.verdict]||v.verdict))}catch(e){say(e.message,true)}};
</script></body></html>"##;

/// The page's Content-Security-Policy: its one inline script by hash, no other script, no
/// framing (a login form for one's own number must not be clickjacked), requests only to this
/// origin.
fn policy() -> &'static HeaderValue {
    static POLICY: OnceLock<HeaderValue> = OnceLock::new();
    POLICY.get_or_init(|| {
        let script = PAGE
            .split_once("<script>")
            .and_then(|(_, rest)| rest.split_once("</script>"))
            .map_or("", |(script, _)| script);
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script));
        let csp = format!(
            "default-src 'none'; script-src 'sha256-{hash}'; style-src 'unsafe-inline'; \
             connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        );
        HeaderValue::from_str(&csp)
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
    })
}

/// The consumer portal page.
pub async fn page() -> Response {
    let mut resp = Html(PAGE).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, policy().clone());
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
