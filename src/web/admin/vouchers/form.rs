//! The console's form for a new voucher, read into [`VoucherTerms`] by the domain's own
//! checks, and what each mistake in it tells the operator.

use serde::Deserialize;

use crate::domain::{Day, DirectoryId, VoucherTerms, VoucherTermsError};
use crate::i18n::Tr;

/// The fields as posted; every one is text, empty when left out.
#[derive(Debug, Default, Deserialize)]
pub struct CreateForm {
    pub name: Option<String>,
    pub note: Option<String>,
    pub uses: Option<String>,
    pub valid_until: Option<String>,
    /// Licence SKU ids, one a line (or separated by spaces or commas).
    pub licences: Option<String>,
    /// Group object ids, one a line.
    pub groups: Option<String>,
    pub email_filter: Option<String>,
    pub lifetime_days: Option<String>,
    pub ends_on: Option<String>,
}

/// What is wrong with the form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateFormError {
    #[error("the uses are not a whole number")]
    Uses,
    #[error("the last valid day is not a date")]
    ValidUntil,
    #[error("a licence is not a SKU id")]
    Licence,
    #[error("a group is not an object id")]
    Group,
    #[error("the lifetime is not a whole number of days")]
    LifetimeDays,
    #[error("the end date is not a date")]
    EndsOn,
    #[error(transparent)]
    Terms(#[from] VoucherTermsError),
}

/// The field's text, trimmed; `None` when empty.
fn given(field: &Option<String>) -> Option<&str> {
    field
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

fn number(field: &Option<String>, err: CreateFormError) -> Result<Option<u32>, CreateFormError> {
    given(field)
        .map(|text| text.parse::<u32>().map_err(|_| err))
        .transpose()
}

fn date(field: &Option<String>, err: CreateFormError) -> Result<Option<Day>, CreateFormError> {
    given(field)
        .map(|text| Day::parse(text).map_err(|_| err))
        .transpose()
}

/// The ids in `field`; `None` when there are none (the configured ones apply).
fn ids(
    field: &Option<String>,
    err: CreateFormError,
) -> Result<Option<Vec<DirectoryId>>, CreateFormError> {
    let ids = given(field)
        .unwrap_or("")
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|id| !id.is_empty())
        .map(|id| DirectoryId::parse(id).map_err(|_| err.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((!ids.is_empty()).then_some(ids))
}

impl CreateForm {
    /// The voucher's terms, checked as `vouchers create` checks them.
    pub fn terms(&self) -> Result<VoucherTerms, CreateFormError> {
        let terms = VoucherTerms {
            name: given(&self.name).unwrap_or("").to_owned(),
            note: given(&self.note).unwrap_or("").to_owned(),
            uses: number(&self.uses, CreateFormError::Uses)?,
            valid_until: date(&self.valid_until, CreateFormError::ValidUntil)?,
            licences: ids(&self.licences, CreateFormError::Licence)?,
            groups: ids(&self.groups, CreateFormError::Group)?,
            email_filter: given(&self.email_filter).map(str::to_owned),
            lifetime_days: number(&self.lifetime_days, CreateFormError::LifetimeDays)?,
            ends_on: date(&self.ends_on, CreateFormError::EndsOn)?,
        };
        Ok(terms.checked()?)
    }
}

impl CreateFormError {
    /// What the operator reads, in their language.
    pub fn message(&self, tr: &Tr) -> String {
        match self {
            CreateFormError::Uses => tr.t("Enter the uses as a whole number of at least 1, or leave the field empty for no limit.").to_owned(),
            CreateFormError::ValidUntil => tr.t("Enter the last valid day as a date (YYYY-MM-DD), or leave the field empty.").to_owned(),
            CreateFormError::Licence => tr.t("Each licence must be a SKU id (a GUID), one a line.").to_owned(),
            CreateFormError::Group => tr.t("Each group must be an object id (a GUID), one a line.").to_owned(),
            CreateFormError::LifetimeDays => tr.t("Enter the accounts' lifetime as a whole number of days, or leave the field empty.").to_owned(),
            CreateFormError::EndsOn => tr.t("Enter the accounts' end date as a date (YYYY-MM-DD), or leave the field empty.").to_owned(),
            CreateFormError::Terms(err) => terms_message(tr, err),
        }
    }
}

fn terms_message(tr: &Tr, err: &VoucherTermsError) -> String {
    match err {
        VoucherTermsError::Name => tr.tf(
            "Give the voucher a name of 1 to {max} characters, without line breaks.",
            &[("max", &VoucherTerms::MAX_NAME.to_string())],
        ),
        VoucherTermsError::Note => tr.tf(
            "The note may have at most {max} characters.",
            &[("max", &VoucherTerms::MAX_NOTE.to_string())],
        ),
        VoucherTermsError::NoUses => tr.t("Enter the uses as a whole number of at least 1, or leave the field empty for no limit.").to_owned(),
        VoucherTermsError::Filter(_) => tr.t("The address filter is not a valid regular expression.").to_owned(),
        VoucherTermsError::TwoEnds => tr.t("Give the accounts' lifetime in days or their end date, not both.").to_owned(),
        VoucherTermsError::NoLifetime => tr.t("The accounts' lifetime must be at least 1 day.").to_owned(),
    }
}
