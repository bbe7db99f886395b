//! The committed default model holds the consent judgement's targets on the held-out
//! generated sets (`corpus/synth/test`: templates never trained on): no message from a person
//! and no pure notice read as marketing or fraud, and at least 95% of notices with a
//! selling clause read as marketing with the clause named.

use classify::Model;
use classify::judgement::{Judgement, synth_test_sets};

#[test]
fn people_and_notices_are_never_unwanted_and_disguised_notices_are_caught() {
    let model = Model::default_model().expect("embedded model");
    let [people, notices, disguised] = synth_test_sets().expect("corpus/synth/test");
    let j = Judgement::measure(&model, &people, &notices, &disguised, None);
    assert!(people.len() >= 100 && notices.len() >= 70 && disguised.len() >= 100);
    assert_eq!(j.people.unwanted, 0, "{j}");
    assert_eq!(j.notices.unwanted, 0, "{j}");
    assert!(j.disguised.unwanted_rate() >= 0.95, "{j}");
    assert_eq!(
        j.disguised.clause_named, j.disguised.unwanted,
        "every caught disguise names its clause: {j}"
    );
    assert!(j.met());
}

#[test]
fn the_issue_story_names_the_selling_clause() {
    let model = Model::default_model().expect("embedded model");
    let text = "【好店旗舰店】您的订单已发货，预计明天送达。另外双11全场5折，点击领取优惠券";
    let r = model.read_explained(text);
    assert_eq!(r.category, "marketing", "{r:?}");
    let clause = r.clause_text(text).expect("a clause");
    assert!(clause.starts_with("另外双11"), "{clause}");
    // A person mentioning a sale is a person.
    let r = model.read("张总您好，我是小李，明天下午三点的签约改到四点，麻烦您回个电话确认一下");
    assert!(!matches!(r.category, "marketing" | "fraud"), "{r:?}");
}

/// Regression (#11): a public person-to-person row ("…I need … BANK account no and bank
/// address.") read as fraud at 0.93 while it also read as a person's at 0.64; the reading
/// looked only at the top label. Every UCI `ham` test row must now be neither marketing nor
/// fraud.
#[test]
fn public_person_rows_are_never_marketing_or_fraud() {
    use classify::datasets::{Source, load, shared_data_dir, split};
    let Some(dir) = shared_data_dir() else {
        eprintln!("skipped: ../shared/data/sms (or $CONSENTRY_DATA_DIR) not found");
        return;
    };
    let model = Model::default_model().expect("embedded model");
    let ham: Vec<_> = split(load(&dir, Source::Uci).expect("UCI set"))
        .1
        .into_iter()
        .filter(|e| e.label == "personal")
        .collect();
    let [people, notices, disguised] = synth_test_sets().expect("corpus/synth/test");
    let j = Judgement::measure(&model, &people, &notices, &disguised, Some(&ham));
    eprintln!("{j}");
    let public = j.public_people.as_ref().expect("measured");
    assert!(public.rows >= 300, "{j}");
    assert_eq!(public.unwanted, 0, "{j}");
}

/// The rule behind the test above, on every text we have: whatever scores highest, a text
/// whose p(personal) reaches `person_confidence` is never read as marketing or fraud.
#[test]
fn a_text_that_reads_as_a_persons_is_never_unwanted() {
    use classify::ReadConfig;
    use classify::datasets::{Source, corpus_dir, load, shared_data_dir};
    let model = Model::default_model().expect("embedded model");
    let mut texts: Vec<String> = load(&corpus_dir(), Source::Corpus)
        .expect("corpus")
        .into_iter()
        .map(|e| e.text)
        .collect();
    for set in synth_test_sets().expect("corpus/synth/test") {
        texts.extend(set.into_iter().map(|e| e.text));
    }
    if let Some(dir) = shared_data_dir() {
        for s in [Source::Uci, Source::ZhSpam, Source::Fbs] {
            texts.extend(
                load(&dir, s)
                    .expect("public set")
                    .into_iter()
                    .map(|e| e.text),
            );
        }
    } else {
        eprintln!("../shared/data/sms not found: corpus and generated texts only");
    }
    let bar = ReadConfig::default().person_confidence;
    let mut conflicts = 0;
    for t in &texts {
        let r = model.read(t);
        if r.score("personal").is_some_and(|p| p >= bar) {
            assert!(!matches!(r.category, "marketing" | "fraud"), "{t}: {r:?}");
            if r.scores
                .iter()
                .any(|&(l, p)| matches!(l, "marketing" | "fraud") && p >= 0.8)
            {
                conflicts += 1;
            }
        }
    }
    eprintln!(
        "{} texts, {conflicts} read as a person's and as unwanted (now uncertain)",
        texts.len()
    );
}
