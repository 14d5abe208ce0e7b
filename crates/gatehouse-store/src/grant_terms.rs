//! The terms of a grant — the resources it names (RFC 8707 §2, `grant_resources`) and its OIDC
//! `claims` request (Core §5.5, `grant_claims`) — read in the same statement as the code or
//! refresh token that carries the grant id, as two scalar subqueries. A code redemption or a
//! rotation then costs one read instead of three.

use gatehouse_core::StoreError;
use gatehouse_core::claims_request::ClaimsRequest;
use gatehouse_core::ports::GrantTerms;
use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef, Query, SubQueryStatement};
use sea_orm::{
    ConnectionTrait, EntityTrait, FromQueryResult, QueryResult, QuerySelect, QueryTrait, Select,
};

use crate::resources::split;

const RESOURCES: &str = "grant_terms_resources";
const CLAIMS: &str = "grant_terms_claims";

/// `select` with two more columns: the terms of the grant whose id is in `grant_id`.
fn with_terms<E: EntityTrait>(select: Select<E>, grant_id: impl IntoColumnRef + Copy) -> Select<E> {
    use crate::entities::{grant_claims as c, grant_resources as r};
    let resources = lookup::<r::Entity>(r::Column::Resources, r::Column::GrantId, grant_id);
    let claims = lookup::<c::Entity>(c::Column::Claims, c::Column::GrantId, grant_id);
    select.expr_as(resources, RESOURCES).expr_as(claims, CLAIMS)
}

/// `(SELECT value FROM T WHERE T.key = grant_id)`: NULL when the grant has no row in `T`.
fn lookup<T: EntityTrait>(value: T::Column, key: T::Column, grant_id: impl IntoColumnRef) -> Expr {
    let query = Query::select()
        .column(value)
        .from(T::default())
        .and_where(Expr::col((T::default(), key)).equals(grant_id))
        .to_owned();
    Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(query)))
}

/// The one row of `select`, as a model, with the terms of the grant whose id is in its column
/// `grant_id`.
pub(crate) async fn one_with_terms<E, C>(
    db: &C,
    select: Select<E>,
    grant_id: impl IntoColumnRef + Copy,
) -> Result<Option<(E::Model, GrantTerms)>, StoreError>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let stmt = with_terms(select, grant_id).build(db.get_database_backend());
    let Some(row) = db.query_one_raw(stmt).await.map_err(StoreError::backend)? else {
        return Ok(None);
    };
    let model = E::Model::from_query_result(&row, "").map_err(StoreError::backend)?;
    Ok(Some((model, terms(&row)?)))
}

fn terms(row: &QueryResult) -> Result<GrantTerms, StoreError> {
    let text = |col: &str| -> Result<Option<String>, StoreError> {
        row.try_get::<Option<String>>("", col)
            .map_err(StoreError::backend)
    };
    let resources = match text(RESOURCES)? {
        Some(list) => split("grant_resources.resources", &list)?,
        None => Vec::new(),
    };
    let claims = text(CLAIMS)?
        .map(|json| {
            ClaimsRequest::from_json(&json)
                .map_err(|e| StoreError::corrupt("grant_claims.claims", e))
        })
        .transpose()?;
    Ok(GrantTerms { resources, claims })
}
