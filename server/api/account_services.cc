// Handlers of AccountService, SessionService and InvitationService.
#include "server/api/login_alias.h"
#include "server/api/services.h"
#include "server/domain/kernel/passwords.h"
#include "server/domain/kernel/resource_names.h"
#include "server/domain/organisation/memberships.h"

namespace habilis::api {
namespace {

authz::Target StructureTarget(const std::string& name) { return {.structure = domain::StructureSegment(name)}; }

// The target of a call that would give `role` in `service` of the structure `parent`.
authz::Target GrantTarget(const std::string& parent, v1::Role role, const std::string& service) {
  authz::Target target = StructureTarget(parent);
  if (std::optional<domain::ServiceName> name = domain::ParseServiceName(service)) target.service = name->service_id;
  if (role == v1::ADMINISTRATOR || role == v1::RESPONSABLE || role == v1::COLLABORATOR) {
    v1::Membership membership;
    membership.set_role(role);
    target.role = domain::ToAuthz(membership).role;
  }
  return target;
}

std::string AccountOfSession(const std::string& session_name) {
  std::optional<domain::SessionNameParts> parts = domain::ParseSessionName(session_name);
  return parts ? domain::AccountName(parts->account_id) : "";
}

// The target of a call about one account (in `structure_name`, if the request names one): the account
// and its memberships, read when the call runs on the executor.
auto AccountTarget(domain::Accounts& accounts, const std::string& account_name,
                   const std::string& structure_name = "") {
  return [&accounts, account_name, structure_name]() -> absl::StatusOr<authz::Target> {
    authz::Target target = StructureTarget(structure_name);
    target.account = domain::ParseAccountName(account_name).value_or("");
    absl::StatusOr<std::vector<authz::Membership>> memberships = accounts.MembershipsForAuthz(account_name);
    if (!memberships.ok()) return memberships.status();
    target.account_memberships = *std::move(memberships);
    return target;
  };
}

}  // namespace

#define HABILIS_HANDLER(Service, Method)                                                                          \
  grpc::ServerUnaryReactor* Service::Method(grpc::CallbackServerContext* ctx, const v1::Method##Request* request, \
                                            v1::Method##Response* response)

HABILIS_HANDLER(AccountService, CreateAccount) {
  return ServeUnary(context_, ctx, request, response,
                    GrantTarget(request->parent(), request->membership().role(), request->membership().service()),
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(accounts_.Create(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(AccountService, GetAccount) {
  return ServeUnary(
      context_, ctx, request, response, AccountTarget(accounts_, request->name()),
      [this, request](const authz::Principal& caller, auto& out) { return accounts_.Get(caller, *request, out); });
}

HABILIS_HANDLER(AccountService, ListAccounts) {
  return ServeUnary(
      context_, ctx, request, response, StructureTarget(request->parent()),
      [this, request](const authz::Principal& caller, auto& out) { return accounts_.List(caller, *request, out); });
}

HABILIS_HANDLER(AccountService, UpdateAccount) {
  return ServeUnary(context_, ctx, request, response, AccountTarget(accounts_, request->account().name()),
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(accounts_.Update(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(AccountService, ConfirmNotificationEmail) {
  return ServeUnary(context_, ctx, request, response, authz::Target{},
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(accounts_.ConfirmNotificationEmail(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(AccountService, ConfirmLoginEmail) {
  return ServeUnary(context_, ctx, request, response, authz::Target{},
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(accounts_.ConfirmLoginEmail(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(AccountService, AcceptJoin) {
  return ServeUnary(context_, ctx, request, response, authz::Target{},
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(accounts_.AcceptJoin(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(AccountService, UnlockAccount) {
  auto aliased = Aliased(*request, &v1::UnlockAccountRequest::mutable_name, request->structure());
  return ServeUnary(
      context_, ctx, request, response, AliasTarget(accounts_, aliased),
      OnAliased(aliased, [this](const authz::Principal& caller, const v1::UnlockAccountRequest& resolved, auto& out) {
        return WithToken(accounts_.Unlock(caller, resolved, out), out);
      }));
}

HABILIS_HANDLER(AccountService, SendPasswordReset) {
  auto aliased = Aliased(*request, &v1::SendPasswordResetRequest::mutable_name, request->structure());
  return ServeUnary(context_, ctx, request, response, AliasTarget(accounts_, aliased),
                    OnAliased(aliased, [this](const authz::Principal& caller,
                                              const v1::SendPasswordResetRequest& resolved, auto& out) {
                      return WithToken(accounts_.SendPasswordReset(caller, resolved, out), out);
                    }));
}

HABILIS_HANDLER(AccountService, ActivateAccount) {
  auto aliased = Aliased(*request, &v1::ActivateAccountRequest::mutable_name, request->structure());
  return ServeUnary(
      context_, ctx, request, response, AliasTarget(accounts_, aliased),
      OnAliased(aliased, [this](const authz::Principal& caller, const v1::ActivateAccountRequest& resolved, auto& out) {
        return WithToken(accounts_.Activate(caller, resolved, out), out);
      }));
}

HABILIS_HANDLER(AccountService, DeactivateAccount) {
  return ServeUnary(context_, ctx, request, response, StructureTarget(request->structure()),
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(accounts_.Deactivate(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(AccountService, ResendIdentifier) {
  return ServeUnary(context_, ctx, request, response, StructureTarget(request->structure()),
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(accounts_.ResendIdentifier(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(AccountService, UpdateMembership) {
  return ServeUnary(context_, ctx, request, response, StructureTarget(request->membership().structure()),
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(accounts_.UpdateMembership(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(AccountService, SuspendMembership) {
  auto aliased = Aliased(*request, &v1::SuspendMembershipRequest::mutable_account, request->structure());
  return ServeUnary(context_, ctx, request, response, AliasTarget(accounts_, aliased),
                    OnAliased(aliased, [this](const authz::Principal& caller,
                                              const v1::SuspendMembershipRequest& resolved, auto& out) {
                      return WithToken(membership_states_.Suspend(caller, resolved, out), out);
                    }));
}

HABILIS_HANDLER(AccountService, ResumeMembership) {
  auto aliased = Aliased(*request, &v1::ResumeMembershipRequest::mutable_account, request->structure());
  return ServeUnary(context_, ctx, request, response, AliasTarget(accounts_, aliased),
                    OnAliased(aliased, [this](const authz::Principal& caller,
                                              const v1::ResumeMembershipRequest& resolved, auto& out) {
                      return WithToken(membership_states_.Resume(caller, resolved, out), out);
                    }));
}

HABILIS_HANDLER(AccountService, RemoveMembership) {
  auto aliased = Aliased(*request, &v1::RemoveMembershipRequest::mutable_account, request->structure());
  return ServeUnary(context_, ctx, request, response, AliasTarget(accounts_, aliased),
                    OnAliased(aliased, [this](const authz::Principal& caller,
                                              const v1::RemoveMembershipRequest& resolved, auto& out) {
                      return WithToken(membership_states_.Remove(caller, resolved, out), out);
                    }));
}

HABILIS_HANDLER(AccountService, TransferAccounts) {
  return ServeUnary(context_, ctx, request, response, StructureTarget(request->parent()),
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(accounts_.Transfer(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(AccountService, RequestAccountDeletion) {
  return ServeUnary(context_, ctx, request, response, StructureTarget(request->structure()),
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(deletion_requests_.Request(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(AccountService, ListDeletionRequests) {
  return ServeUnary(context_, ctx, request, response, StructureTarget(request->structure()),
                    [this, request](const authz::Principal& caller, auto& out) {
                      return deletion_requests_.List(caller, *request, out);
                    });
}

HABILIS_HANDLER(AccountService, DecideDeletionRequest) {
  return ServeUnary(context_, ctx, request, response, authz::Target{},
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(deletion_requests_.Decide(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(SessionService, Login) {
  return ServeUnary(context_, ctx, request, response, authz::Target{},
                    [this, request](const authz::Principal&, auto& out) { return sessions_.Login(*request, out); });
}

HABILIS_HANDLER(SessionService, ConfirmLoginCode) {
  return ServeUnary(
      context_, ctx, request, response, authz::Target{},
      [this, request](const authz::Principal&, auto& out) { return sessions_.ConfirmLoginCode(*request, out); });
}

HABILIS_HANDLER(SessionService, Logout) {
  return ServeUnary(context_, ctx, request, response, authz::Target{},
                    [this, request](const authz::Principal& caller, auto& out) {
                      return sessions_.Logout(caller, *request, out).status();
                    });
}

HABILIS_HANDLER(SessionService, ListSessions) {
  return ServeUnary(context_, ctx, request, response, AccountTarget(accounts_, request->parent()),
                    [this, request](const authz::Principal& caller, auto& out) {
                      return sessions_.ListSessions(caller, *request, out);
                    });
}

HABILIS_HANDLER(SessionService, EndSession) {
  return ServeUnary(context_, ctx, request, response, AccountTarget(accounts_, AccountOfSession(request->name())),
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(sessions_.EndSession(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(SessionService, AcceptPrivacyPolicy) {
  return ServeUnary(context_, ctx, request, response, authz::Target{},
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(sessions_.AcceptPrivacyPolicy(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(SessionService, ChangePassword) {
  return ServeUnary(context_, ctx, request, response, authz::Target{},
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(sessions_.ChangePassword(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(SessionService, RequestPasswordReset) {
  return ServeUnary(context_, ctx, request, response, authz::Target{}, [this, request](const authz::Principal&, auto&) {
    return sessions_.RequestPasswordReset(*request);
  });
}

HABILIS_HANDLER(SessionService, SetPasswordWithLink) {
  return ServeUnary(
      context_, ctx, request, response, authz::Target{},
      [this, request](const authz::Principal&, auto& out) { return sessions_.SetPasswordWithLink(*request, out); });
}

HABILIS_HANDLER(SessionService, UnlockWithLink) {
  return ServeUnary(
      context_, ctx, request, response, authz::Target{},
      [this, request](const authz::Principal&, auto& out) { return sessions_.UnlockWithLink(*request, out); });
}

HABILIS_HANDLER(SessionService, SuggestPassword) {
  return ServeUnary(context_, ctx, request, response, authz::Target{}, [](const authz::Principal&, auto& out) {
    out.set_password(domain::SuggestPassword());
    return absl::OkStatus();
  });
}

HABILIS_HANDLER(InvitationService, SendInvitations) {
  return ServeUnary(context_, ctx, request, response,
                    GrantTarget(request->parent(), request->role(), request->service()),
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(invitations_.Send(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(InvitationService, FillInvitation) {
  return ServeUnary(context_, ctx, request, response, authz::Target{},
                    [this, request](const authz::Principal&, auto& out) { return invitations_.Fill(*request, out); });
}

HABILIS_HANDLER(InvitationService, GetInvitationByLink) {
  return ServeUnary(
      context_, ctx, request, response, authz::Target{},
      [this, request](const authz::Principal&, auto& out) { return invitations_.GetByLink(*request, out); });
}

HABILIS_HANDLER(InvitationService, ResendInvitations) {
  return ServeUnary(context_, ctx, request, response, StructureTarget(request->parent()),
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(invitations_.Resend(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(InvitationService, ListInvitations) {
  return ServeUnary(
      context_, ctx, request, response, StructureTarget(request->parent()),
      [this, request](const authz::Principal& caller, auto& out) { return invitations_.List(caller, *request, out); });
}

HABILIS_HANDLER(InvitationService, DecideInvitations) {
  return ServeUnary(context_, ctx, request, response, StructureTarget(request->parent()),
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(invitations_.Decide(caller, *request, out), out);
                    });
}

#undef HABILIS_HANDLER

}  // namespace habilis::api
